/**
 * The live-ownership decision table, at the gate over HTTP: every requirement shape × revalidate
 * off / 'deny' / 'useToken' × what the token proves × what the resolver says now.
 *
 * The attack it pins: a live route whose requirement the live check thought needed no balance
 * (tokens named by id alone, on Solana) let every logged-in wallet through, without asking the
 * resolver, while the same route without revalidate refused. Here every shape that names something
 * to hold asks the resolver exactly once per request, and no policy turns a refusal into a pass.
 */
import { createTokenGate, type OwnershipResolver, type TokenRequirements } from '../../lib';
import { APES_CONTRACT, OTHER_WALLET, PUNKS_CONTRACT, WALLET } from '../helpers/fixtures';
import { appWith, useTestIssuer } from '../helpers/harness';
import { get } from '../helpers/live';

const SOL_WALLET = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';
const SOL_OTHER_WALLET = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';
const SOL_MINT = 'J1S9H3QjnRtBbbuD4HjPV6RpRhwuk4zKbxsnCHuTgh9w';
const SOL_COLLECTION = '8yKYtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsV';
const SOL_CREATOR = '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T';

type Live = 'holds' | 'lacks' | 'fails';
type Mode = 'off' | 'deny' | 'useToken';

/** A resolver over a switchable answer, counting its calls. A real port implementation, not a stand-in for the gate. */
function tableResolver() {
  const state = { live: 'holds' as Live, calls: 0 };
  const resolver: OwnershipResolver = {
    name: 'table',
    async resolve() {
      state.calls += 1;
      if (state.live === 'fails') throw new Error('the node is down');
      return { balance: state.live === 'holds' ? '10' : '0' };
    },
  };
  return { state, resolver };
}

interface Shape {
  name: string;
  requirement: TokenRequirements;
  /** The wallet the token names; in `allowedWallets` when the shape has them. */
  wallet: string;
  chain: string;
  /** Claims of a token whose snapshot meets the requirement. */
  proving: Record<string, unknown>;
}

const evm = (wallet = WALLET) => ({ wallet, chain: 'ethereum' });
const sol = (wallet = SOL_WALLET) => ({ wallet, chain: 'solana' });

const SHAPES: Shape[] = [
  {
    name: 'contract',
    requirement: { contractAddress: APES_CONTRACT },
    ...evm(),
    proving: { tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' } } },
  },
  {
    name: 'contract + minTokenBalance 5',
    requirement: { contractAddress: APES_CONTRACT, minTokenBalance: '5' },
    ...evm(),
    proving: { tokenBalances: { contractAddress: { [APES_CONTRACT]: '5' } } },
  },
  {
    name: 'contract + ids',
    requirement: { contractAddress: APES_CONTRACT, tokenIds: ['7'] },
    ...evm(),
    proving: { contractAddress: APES_CONTRACT, tokenIds: ['7'], tokenBalance: '1' },
  },
  {
    name: 'ids alone on Solana',
    requirement: { chain: 'solana', tokenIds: [SOL_MINT] },
    ...sol(),
    proving: { tokenBalances: { tokenIds: { [SOL_MINT]: '1' } } },
  },
  {
    name: 'ids alone on Solana + minTokenBalance 5',
    requirement: { chain: 'solana', tokenIds: [SOL_MINT], minTokenBalance: '5' },
    ...sol(),
    proving: { tokenBalances: { tokenIds: { [SOL_MINT]: '5' } } },
  },
  {
    name: 'ids alone on another non-EVM chain (flow)',
    requirement: { chain: 'flow', tokenIds: [SOL_MINT] },
    ...sol(),
    chain: 'flow',
    proving: { tokenBalances: { tokenIds: { [SOL_MINT]: '1' } } },
  },
  {
    name: 'collection',
    requirement: { chain: 'solana', collection: SOL_COLLECTION },
    ...sol(),
    proving: { tokenBalances: { collection: { [SOL_COLLECTION]: '1' } } },
  },
  {
    name: 'creator',
    requirement: { chain: 'solana', creatorAddress: SOL_CREATOR },
    ...sol(),
    proving: { tokenBalances: { creatorAddress: { [SOL_CREATOR]: '1' } } },
  },
  {
    name: 'contract + allowedWallets',
    requirement: { contractAddress: APES_CONTRACT, allowedWallets: [WALLET] },
    ...evm(),
    proving: { tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' } } },
  },
  {
    name: 'ids on Solana + allowedWallets',
    requirement: { chain: 'solana', tokenIds: [SOL_MINT], allowedWallets: [SOL_WALLET] },
    ...sol(),
    proving: { tokenBalances: { tokenIds: { [SOL_MINT]: '1' } } },
  },
  {
    name: 'collection + creator',
    requirement: { chain: 'solana', collection: [SOL_COLLECTION], creatorAddress: SOL_CREATOR, minTokenBalance: 2 },
    ...sol(),
    proving: { tokenBalances: { collection: { [SOL_COLLECTION]: '1' }, creatorAddress: { [SOL_CREATOR]: '1' } } },
  },
  {
    name: 'contract + collection (two contracts on EVM)',
    requirement: { contractAddress: APES_CONTRACT, collection: [PUNKS_CONTRACT], minTokenBalance: '2' },
    ...evm(),
    proving: {
      tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' }, collection: { [PUNKS_CONTRACT]: '1' } },
    },
  },
];

/** What the route answers: the snapshot decides when off, the resolver otherwise, the snapshot again on 'useToken' failures. */
function expected(mode: Mode, proves: boolean, live: Live): { status: number; reason?: string; asks: number } {
  const snapshot = proves ? { status: 200 } : { status: 403, reason: 'insufficient_balance' };
  if (mode === 'off') return { ...snapshot, asks: 0 };
  if (live === 'holds') return { status: 200, asks: 1 };
  if (live === 'lacks') return { status: 403, reason: 'insufficient_balance', asks: 1 };
  if (mode === 'deny') return { status: 503, reason: 'ownership_unavailable', asks: 1 };
  return { ...snapshot, asks: 1 };
}

const env = useTestIssuer();
const rows: Array<[string, Mode, boolean, Live]> = [];
for (const shape of SHAPES)
  for (const mode of ['off', 'deny', 'useToken'] as const)
    for (const proves of [true, false])
      for (const live of ['holds', 'lacks', 'fails'] as const) rows.push([shape.name, mode, proves, live]);

describe('requireTokens: requirement shape × revalidate × token snapshot × live answer', () => {
  test.each(rows)('%s, revalidate %s, token proves: %s, resolver %s', async (name, mode, proves, live) => {
    const shape = SHAPES.find((s) => s.name === name)!;
    const { state, resolver } = tableResolver();
    state.live = live;
    // maxAgeMs 0: every request asks, so a failure is never remembered across rows.
    const revalidate = mode === 'off' ? undefined : { resolver, onResolverError: mode, maxAgeMs: 0 };
    const gate = createTokenGate({ ...env.issuer.options, ...(revalidate && { revalidate }) });
    const app = appWith(gate.requireTokens(shape.requirement));
    const token = await env.issuer.sign({
      walletAddress: shape.wallet,
      chain: shape.chain,
      sub: `${shape.chain}:${shape.wallet}`,
      ...(proves ? shape.proving : {}),
    });
    const want = expected(mode, proves, live);
    const res = await get(app, token);
    expect({ status: res.status, reason: res.body.reason, asks: state.calls }).toEqual({
      status: want.status,
      reason: want.reason,
      asks: want.asks,
    });
    if (want.status === 403) expect(res.body.requirements).toMatchObject({ chain: shape.chain });
  });
});

describe('who the wallet is decides first, under every policy', () => {
  const walletRows: Array<[string, Mode]> = [];
  for (const shape of SHAPES.filter((s) => s.requirement.allowedWallets))
    for (const mode of ['off', 'deny', 'useToken'] as const) walletRows.push([shape.name, mode]);

  test.each(walletRows)(
    '%s, revalidate %s: a wallet outside allowedWallets is refused, holding or not, and nothing is asked',
    async (name, mode) => {
      const shape = SHAPES.find((s) => s.name === name)!;
      const { state, resolver } = tableResolver();
      const revalidate = mode === 'off' ? undefined : { resolver, onResolverError: mode, maxAgeMs: 0 };
      const gate = createTokenGate({ ...env.issuer.options, ...(revalidate && { revalidate }) });
      const app = appWith(gate.requireTokens(shape.requirement));
      const outsider = shape.chain === 'ethereum' ? OTHER_WALLET : SOL_OTHER_WALLET;
      const token = await env.issuer.sign({
        walletAddress: outsider,
        chain: shape.chain,
        sub: `${shape.chain}:${outsider}`,
        ...shape.proving,
      });
      const res = await get(app, token).expect(403);
      expect(res.body.reason).toBe('wallet_not_allowed');
      expect(state.calls).toBe(0);
    },
  );

  test.each([
    ['ethereum', WALLET, OTHER_WALLET],
    ['solana', SOL_WALLET, SOL_OTHER_WALLET],
  ])(
    'allowedWallets alone on %s: the token decides, under every policy, and nothing is asked',
    async (chain, inside, outside) => {
      for (const mode of ['off', 'deny', 'useToken'] as const) {
        for (const live of ['holds', 'lacks', 'fails'] as const) {
          const { state, resolver } = tableResolver();
          state.live = live;
          const revalidate = mode === 'off' ? undefined : { resolver, onResolverError: mode, maxAgeMs: 0 };
          const gate = createTokenGate({ ...env.issuer.options, ...(revalidate && { revalidate }) });
          const app = appWith(gate.requireTokens({ chain, allowedWallets: [inside] }));
          const sign = (wallet: string) => env.issuer.sign({ walletAddress: wallet, chain, sub: `${chain}:${wallet}` });
          await get(app, await sign(inside)).expect(200);
          const res = await get(app, await sign(outside)).expect(403);
          expect(res.body.reason).toBe('wallet_not_allowed');
          expect(state.calls).toBe(0);
        }
      }
    },
  );

  test('a token on another chain is refused with chain_mismatch under every policy, and nothing is asked', async () => {
    for (const mode of ['off', 'deny', 'useToken'] as const) {
      const { state, resolver } = tableResolver();
      const revalidate = mode === 'off' ? undefined : { resolver, onResolverError: mode, maxAgeMs: 0 };
      const gate = createTokenGate({ ...env.issuer.options, ...(revalidate && { revalidate }) });
      const app = appWith(gate.requireTokens({ chain: 'solana', tokenIds: [SOL_MINT] }));
      const token = await env.issuer.sign({
        walletAddress: WALLET,
        tokenBalances: { tokenIds: { [SOL_MINT]: '1' } },
      });
      const res = await get(app, token).expect(403);
      expect(res.body.reason).toBe('chain_mismatch');
      expect(state.calls).toBe(0);
    }
  });
});

test('EVM token ids without a contract are refused at startup, with or without revalidate', () => {
  const { resolver } = tableResolver();
  for (const options of [{}, { revalidate: { resolver } }]) {
    const gate = createTokenGate({ ...env.issuer.options, ...options });
    expect(() => gate.requireTokens({ tokenIds: ['7'], chain: 'ethereum' })).toThrow(
      'requirement "tokenIds" needs a contractAddress',
    );
  }
});
