/**
 * A real local EVM for the on-chain resolver: ganache (from npm, in process) on 127.0.0.1, the
 * Solidity contracts of test/fixtures/contracts compiled by solc-js, deployed and driven with viem.
 * Transactions pass `gas` explicitly: viem's estimate on ganache makes deployments revert.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import ganache from 'ganache';
import {
  createPublicClient,
  createWalletClient,
  getContractAddress,
  http,
  type Abi,
  type Address,
  type Hex,
} from 'viem';

const CONTRACTS = path.join(__dirname, '../fixtures/contracts');
const GAS = 3_000_000n;

export interface Compiled {
  abi: Abi;
  bytecode: Hex;
}

/** Compiles every .sol file of the fixtures once: `{ [contractName]: { abi, bytecode } }`. */
export function compileContracts(): Record<string, Compiled> {
  // solc-js is a large emscripten module: load it only where contracts are compiled.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require('solc') as { compile(input: string): string };
  const sources = Object.fromEntries(
    fs
      .readdirSync(CONTRACTS)
      .filter((f) => f.endsWith('.sol'))
      .map((f) => [f, { content: fs.readFileSync(path.join(CONTRACTS, f), 'utf8') }]),
  );
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      // ganache 7 runs up to Shanghai: solc's later default emits opcodes it lacks (MCOPY).
      evmVersion: 'shanghai',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: Array<{ severity: string; formattedMessage: string }>;
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const compiled: Record<string, Compiled> = {};
  for (const file of Object.values(output.contracts)) {
    for (const [name, contract] of Object.entries(file))
      compiled[name] = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  }
  return compiled;
}

export interface LocalChain {
  readonly rpcUrl: string;
  /** Unlocked, funded accounts (deterministic). */
  readonly accounts: Address[];
  /** Deploys from `from` (default the first account) and waits for it to be mined. */
  deploy(contract: Compiled, args?: readonly unknown[], from?: Address): Promise<Address>;
  /** The address `from`'s next deployment will have (its nonce decides it). */
  nextContractAddress(from: Address): Promise<Address>;
  /** Sends a transaction from `from` and waits for it to be mined; throws if it reverted. */
  send(
    from: Address,
    address: Address,
    contract: Compiled,
    functionName: string,
    args: readonly unknown[],
  ): Promise<void>;
  close(): Promise<void>;
}

/** `chainId`: what the node answers to `eth_chainId`; ganache's own default is 1337. */
export async function startChain({ chainId = 1337 }: { chainId?: number } = {}): Promise<LocalChain> {
  const server = ganache.server({
    logging: { quiet: true },
    wallet: { deterministic: true },
    chain: { chainId },
  });
  await server.listen(0, '127.0.0.1');
  const rpcUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const transport = http(rpcUrl, { retryCount: 0 });
  const wallet = createWalletClient({ transport });
  const reader = createPublicClient({ transport, pollingInterval: 20 });
  const accounts = await wallet.getAddresses();

  async function mined(hash: Hex): Promise<Address | null | undefined> {
    const receipt = await reader.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
    return receipt.contractAddress;
  }

  return {
    rpcUrl,
    accounts,
    async deploy(contract, args = [], from = accounts[0]!) {
      const hash = await wallet.deployContract({
        abi: contract.abi,
        bytecode: contract.bytecode,
        args,
        account: from,
        chain: null,
        gas: GAS,
      });
      return (await mined(hash))!;
    },
    async nextContractAddress(from) {
      const nonce = await reader.getTransactionCount({ address: from, blockTag: 'pending' });
      return getContractAddress({ from, nonce: BigInt(nonce) });
    },
    async send(from, address, contract, functionName, args) {
      const hash = await wallet.writeContract({
        address,
        abi: contract.abi,
        functionName,
        args,
        account: from,
        chain: null,
        gas: GAS,
      });
      await mined(hash);
    },
    close: () => server.close(),
  };
}
