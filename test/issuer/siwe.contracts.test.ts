/**
 * Contract wallets on a real chain (ganache in process, test/helpers/chain.ts): an EIP-1271
 * wallet deployed with one owner key, and an EIP-6492 counterfactual wallet of a CREATE2 factory
 * that is not deployed yet. viem's `verifyMessage` asks the chain through the issuer's RPC URL.
 */
import http from 'node:http';
import {
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  getContractAddress,
  keccak256,
  serializeErc6492Signature,
  toHex,
  type Address,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { domainPolicy, evmSignatureVerifier, formatSiweMessage, verifyLogin } from '../../lib/issuer/siwe';
import { compileContracts, startChain, type Compiled, type LocalChain } from '../helpers/chain';
import { closedPort, closeServer, listen } from '../helpers/net';

const owner = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const stranger = privateKeyToAccount('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
const NONCE = 'c0ntractW4llet';
const STATEMENT = 'Sign in with your wallet to test-project';
const CHAIN_ID = 1337;
const NOW = Date.UTC(2024, 4, 1, 12, 0, 1);

let chain: LocalChain;
let contracts: Record<string, Compiled>;
let wallet: Address;
let factory: Address;

beforeAll(async () => {
  contracts = compileContracts();
  chain = await startChain();
  // Receipts give addresses in lower case; a message holds the checksummed form.
  wallet = getAddress(await chain.deploy(contracts.Erc1271Wallet!, [owner.address]));
  factory = await chain.deploy(contracts.Erc1271WalletFactory!);
}, 120_000);

afterAll(() => chain?.close());

function textFor(address: Address, chainId = CHAIN_ID): string {
  return formatSiweMessage({
    domain: 'localhost:5173',
    address,
    statement: STATEMENT,
    uri: 'http://localhost:5173/',
    version: '1',
    chainId,
    nonce: NONCE,
    issuedAt: '2024-05-01T12:00:00Z',
  });
}

function loginAs(address: Address, signature: string, rpcUrls: Record<number, string> = { [CHAIN_ID]: chain.rpcUrl }) {
  return verifyLogin(
    {
      message: textFor(address),
      signature,
      issued: { address, nonce: NONCE, statement: STATEMENT, chainId: CHAIN_ID },
    },
    { domains: domainPolicy(), now: NOW },
    evmSignatureVerifier({ rpcUrls, timeoutMs: 20_000 }),
  );
}

describe('EIP-1271: a deployed contract wallet', () => {
  it("logs in with its owner's signature", async () => {
    const signature = await owner.signMessage({ message: textFor(wallet) });
    await expect(loginAs(wallet, signature)).resolves.toMatchObject({ signer: 'contract' });
  });

  it("refuses a stranger's signature as signature_invalid", async () => {
    const signature = await stranger.signMessage({ message: textFor(wallet) });
    await expect(loginAs(wallet, signature)).rejects.toMatchObject({ reason: 'signature_invalid', kind: 'refused' });
  });

  it('refuses it without an RPC URL for its chain id, as signature_invalid', async () => {
    const signature = await owner.signMessage({ message: textFor(wallet) });
    await expect(loginAs(wallet, signature, { 1: chain.rpcUrl })).rejects.toMatchObject({
      reason: 'signature_invalid',
      message: expect.stringContaining('no RPC URL'),
    });
  });

  it('answers signature_unverifiable (kind unavailable) when the RPC cannot be reached', async () => {
    const signature = await owner.signMessage({ message: textFor(wallet) });
    const port = await closedPort();
    await expect(loginAs(wallet, signature, { [CHAIN_ID]: `http://127.0.0.1:${port}` })).rejects.toMatchObject({
      reason: 'signature_unverifiable',
      kind: 'unavailable',
    });
  });
});

describe('an RPC that answers its chain id, then fails every call', () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const { id, method } = JSON.parse(body) as { id: number; method: string };
        if (method === 'eth_chainId') res.end(JSON.stringify({ jsonrpc: '2.0', id, result: toHex(CHAIN_ID) }));
        else res.writeHead(500).end('down');
      });
    });
    url = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(() => closeServer(server));

  it('answers signature_unverifiable, not signature_invalid', async () => {
    const signature = await owner.signMessage({ message: textFor(wallet) });
    await expect(loginAs(wallet, signature, { [CHAIN_ID]: url })).rejects.toMatchObject({
      reason: 'signature_unverifiable',
      kind: 'unavailable',
    });
  });
});

describe('the RPC URL must serve the chain id it is given for', () => {
  it('answers signature_unverifiable when it serves another chain', async () => {
    const message = textFor(wallet, 1);
    const signature = await owner.signMessage({ message });
    await expect(
      verifyLogin(
        { message, signature, issued: { address: wallet, nonce: NONCE, statement: STATEMENT, chainId: 1 } },
        { domains: domainPolicy(), now: NOW },
        evmSignatureVerifier({ rpcUrls: { 1: chain.rpcUrl }, timeoutMs: 20_000 }),
      ),
    ).rejects.toMatchObject({
      reason: 'signature_unverifiable',
      message: expect.stringContaining('serves chain 1337'),
    });
  });
});

describe('EIP-6492: a wallet not deployed yet', () => {
  const salt = keccak256(toHex('siwe-6492'));
  const counterfactual = () =>
    getContractAddress({
      opcode: 'CREATE2',
      from: factory,
      salt,
      bytecode: `${contracts.Erc1271Wallet!.bytecode}${encodeAbiParameters([{ type: 'address' }], [owner.address]).slice(2)}`,
    });
  const wrap = (signature: `0x${string}`) =>
    serializeErc6492Signature({
      address: factory,
      data: encodeFunctionData({
        abi: contracts.Erc1271WalletFactory!.abi,
        functionName: 'deploy',
        args: [owner.address, salt],
      }),
      signature,
    });

  it("logs in with its owner's signature wrapped with the factory call", async () => {
    const address = counterfactual();
    const signature = await owner.signMessage({ message: textFor(address) });
    await expect(loginAs(address, wrap(signature))).resolves.toMatchObject({ signer: 'contract' });
  });

  it("refuses a stranger's wrapped signature", async () => {
    const address = counterfactual();
    const signature = await stranger.signMessage({ message: textFor(address) });
    await expect(loginAs(address, wrap(signature))).rejects.toMatchObject({ reason: 'signature_invalid' });
  });
});
