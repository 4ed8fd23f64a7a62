/**
 * A mistyped option name is refused at startup with the known name it most likely meant: one that
 * differs only in case, or within two edits (a swap of adjacent letters is one). A name nothing is
 * that close to is refused without a guess.
 */
import {
  createRevocationList,
  createTokenGate,
  evmOwnershipResolver,
  memoryRevocationStore,
  OptionsError,
  picketOwnershipResolver,
  RequirementsError,
  type TokenGateOptions,
} from '../../lib';
import { redisRevocationStore } from '../../lib/redis';
import { createTestIssuer } from '../../lib/testing';
import { APES_CONTRACT, AUDIENCE } from '../helpers/fixtures';

const base = { audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/jwks.json' };
const resolver = { resolve: async () => ({ balance: '0' }) };

function messageOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('did not throw');
}

function gate(options: Record<string, unknown>): unknown {
  return createTokenGate({ ...base, ...options } as TokenGateOptions);
}

const UNKNOWN = 'is not a known option';

describe('createTokenGate: an unknown option suggests the closest known one', () => {
  test.each([
    // typo, what the error says after `option "<typo>" `
    ['audiance', `${UNKNOWN}; did you mean "audience"?`], // one letter replaced
    ['audeince', `${UNKNOWN}; did you mean "audience"?`], // two adjacent letters swapped
    ['isuer', `${UNKNOWN}; did you mean "issuer"?`], // one letter missing
    ['clockTolerancee', `${UNKNOWN}; did you mean "clockTolerance"?`], // one letter too many
    ['clockTolerence', `${UNKNOWN}; did you mean "clockTolerance"?`],
    ['requestPropery', `${UNKNOWN}; did you mean "requestProperty"?`],
    ['jwksURI', `${UNKNOWN}; did you mean "jwksUri"?`], // case and one letter
    ['JWKSURI', `${UNKNOWN}; did you mean "jwksUri"?`], // case only, however far
    ['MAXTOKENLIFETIME', `${UNKNOWN}; did you mean "maxTokenLifetime"?`],
    ['allowPreflights', `${UNKNOWN}; did you mean "allowPreflight"?`],
    ['tpy', `${UNKNOWN}; did you mean "typ"?`],
    ['maxTokenAgeSeconds', UNKNOWN], // seven letters too many
    ['aud', UNKNOWN], // a JWT claim, not an option name
    ['audiences', `${UNKNOWN}; did you mean "audience"?`],
    ['audienceList', UNKNOWN],
    ['x', UNKNOWN], // too short to be anyone's typo
    ['ty', `${UNKNOWN}; did you mean "typ"?`],
    ['xy', UNKNOWN], // two edits from "typ", but they would replace the whole of it
    ['toString', UNKNOWN],
    ['audience'.repeat(10), UNKNOWN],
  ])('%s', (typo, problem) => {
    expect(() => gate({ [typo]: 1 })).toThrow(OptionsError);
    expect(messageOf(() => gate({ [typo]: 1 }))).toBe(`express-token-gate: option "${typo}" ${problem}`);
  });

  test("another library's option keeps its own advice instead of a guess", () => {
    expect(messageOf(() => gate({ secret: 'x' }))).toBe(
      `express-token-gate: option "secret" is not used here: keys come from the issuer's JWKS (jwksUri, or static keys) and shared secrets (HS*) are refused`,
    );
  });
});

describe('nested options and the other factories suggest the closest known name too', () => {
  test.each<[string, () => unknown, string]>([
    ['jwks', () => gate({ jwks: { timeoutMS: 5 } }), `option "jwks.timeoutMS" ${UNKNOWN}; did you mean "timeoutMs"?`],
    ['jwks, far off', () => gate({ jwks: { refresh: 5 } }), `option "jwks.refresh" ${UNKNOWN}`],
    [
      'jwks, the event hook',
      () => gate({ jwks: { onKeysetEvent: () => {} } }),
      `option "jwks.onKeysetEvent" ${UNKNOWN}; did you mean "onKeySetEvent"?`,
    ],
    [
      'cache',
      () => gate({ cache: { maxEntires: 5 } }),
      `option "cache.maxEntires" ${UNKNOWN}; did you mean "maxEntries"?`,
    ],
    ['cache, far off', () => gate({ cache: { size: 5 } }), `option "cache.size" ${UNKNOWN}`],
    [
      'issuers',
      () => createTokenGate({ issuers: [{ issuer: 'i', audience: 'a', jwksUrl: 'http://127.0.0.1:9/' }] } as never),
      `option "issuers[0].jwksUrl" ${UNKNOWN}; did you mean "jwksUri"?`,
    ],
    ['claims', () => gate({ claims: { chek: () => true } }), `option "claims.chek" ${UNKNOWN}; did you mean "check"?`],
    [
      'revalidate',
      () => gate({ revalidate: { resolver, maxAgeMS: 5 } }),
      `option "revalidate.maxAgeMS" ${UNKNOWN}; did you mean "maxAgeMs"?`,
    ],
    ['revalidate, far off', () => gate({ revalidate: { resolver, ttl: 5 } }), `option "revalidate.ttl" ${UNKNOWN}`],
    [
      'requireTokens options',
      () => createTokenGate(base).requireTokens(APES_CONTRACT, '1', { revalidte: false } as never),
      'option "revalidte" is not a known requireTokens option; did you mean "revalidate"?',
    ],
    [
      'createRevocationList',
      () => createRevocationList({ onStoreErorr: 'allow' } as never),
      `option "onStoreErorr" ${UNKNOWN}; did you mean "onStoreError"?`,
    ],
    [
      'memoryRevocationStore',
      () => memoryRevocationStore({ maxentries: 5 } as never),
      `option "maxentries" ${UNKNOWN}; did you mean "maxEntries"?`,
    ],
    [
      'redisRevocationStore',
      () => redisRevocationStore({ url: 'redis://127.0.0.1:9', keyPrefx: 'a:' } as never),
      `option "keyPrefx" ${UNKNOWN}; did you mean "keyPrefix"?`,
    ],
    [
      'redisRevocationStore, far off',
      () => redisRevocationStore({ url: 'redis://127.0.0.1:9', database: 1 } as never),
      `option "database" ${UNKNOWN}`,
    ],
    [
      'evmOwnershipResolver',
      () => evmOwnershipResolver({ rpcUrl: 'http://127.0.0.1:9', timeoutMS: 5 } as never),
      'option "timeoutMS" is not a known evmOwnershipResolver option; did you mean "timeoutMs"?',
    ],
    [
      'evmOwnershipResolver endpoints',
      () => evmOwnershipResolver({ rpcUrls: { ethereum: { url: 'http://127.0.0.1:9', chainID: 1 } } } as never),
      'option "rpcUrls.ethereum.chainID" is not url or chainId; did you mean "chainId"?',
    ],
    [
      'picketOwnershipResolver',
      () => picketOwnershipResolver({ apiKey: 'k', baseURL: 'http://127.0.0.1:9' } as never),
      'option "baseURL" is not a known picketOwnershipResolver option; did you mean "baseUrl"?',
    ],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(OptionsError);
    expect(messageOf(build)).toBe(`express-token-gate: ${message}`);
  });

  test.each([
    [
      { contractAddress: APES_CONTRACT, minTokenBalence: '1' },
      '"minTokenBalence" is not a known requirement; did you mean "minTokenBalance"?',
    ],
    [{ contractAddres: APES_CONTRACT }, '"contractAddres" is not a known requirement; did you mean "contractAddress"?'],
    [{ contractAddress: APES_CONTRACT, amount: '1' }, '"amount" is not a known requirement'],
  ])('requirements %j', (requirements, message) => {
    const build = () => createTokenGate(base).requireTokens(requirements as never);
    expect(build).toThrow(RequirementsError);
    expect(messageOf(build)).toBe(`express-token-gate: requirement ${message}`);
  });

  test.each([
    [{ profle: 'issuer' }, `option "profle" ${UNKNOWN}; did you mean "profile"?`],
    [{ Chain: 'solana' }, `option "Chain" ${UNKNOWN}; did you mean "chain"?`],
    [{ keys: [] }, `option "keys" ${UNKNOWN}`],
    [{ login: { statment: 'Hi' } }, `option "login.statment" ${UNKNOWN}; did you mean "statement"?`],
    [{ login: { ttl: 5 } }, `option "login.ttl" ${UNKNOWN}`],
    [{ cors: { origin: '*' } }, `option "cors.origin" ${UNKNOWN}; did you mean "origins"?`],
  ])('createTestIssuer %j', async (options, message) => {
    const refusal = await createTestIssuer({ audience: AUDIENCE, ...options } as never).then(
      (issuer) => issuer.close().then(() => 'started'),
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(OptionsError);
    expect((refusal as Error).message).toBe(`express-token-gate: ${message}`);
  });
});
