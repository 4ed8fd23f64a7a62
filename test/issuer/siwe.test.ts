/**
 * The login-message core (lib/issuer/siwe): dates, domains, statements, the client's context,
 * signatures of real secp256k1 keys (viem accounts), and viem's own SIWE client as a second
 * implementation. Times are judged on a ManualClock.
 */
import fc from 'fast-check';
import { createSiweMessage, parseSiweMessage as viemParseSiweMessage } from 'viem/siwe';
import { privateKeyToAccount } from 'viem/accounts';
import { serializeCompactSignature, signatureToCompactSignature, parseSignature } from 'viem';
import {
  assertStatement,
  defaultStatement,
  domainPolicy,
  formatSiweMessage,
  messageFromContext,
  parseDateTime,
  parseSiweMessage,
  SiweError,
  statementProblem,
  verifyLogin,
  type SiweMessage,
} from '../../lib/issuer/siwe';
import { OptionsError } from '../../lib/errors';
import { ManualClock } from '../helpers/manual-clock';

const account = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const other = privateKeyToAccount('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
const NONCE = 'k3Jx9QpL2vT7';
const STATEMENT = 'Sign in with your wallet to test-project';
const ISSUED_AT = '2024-05-01T12:00:00Z';
const NOW = Date.UTC(2024, 4, 1, 12, 0, 30);

function refusal(run: () => unknown): SiweError {
  try {
    run();
  } catch (error) {
    if (error instanceof SiweError) return error;
    throw error;
  }
  throw new Error('was accepted');
}

describe('date-times: any RFC 3339 date-time, real ones only', () => {
  it.each([
    ['2024-05-01T12:00:00.000Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:00:00Z', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T14:00:00+02:00', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T09:30:00-02:30', Date.UTC(2024, 4, 1, 12)],
    ['2024-05-01T12:00:00.5Z', Date.UTC(2024, 4, 1, 12, 0, 0, 500)],
    ['2024-05-01T12:00:00.123456789Z', Date.UTC(2024, 4, 1, 12, 0, 0, 123)],
    ['2024-05-01t12:00:00z', Date.UTC(2024, 4, 1, 12)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2016-12-31T23:59:60Z', Date.UTC(2017, 0, 1)],
    ['0001-01-01T00:00:00Z', -62135596800000],
  ])('reads %s', (text, instant) => {
    expect(parseDateTime(text)).toBe(instant);
  });

  it.each([
    '2023-02-29T00:00:00Z',
    '2024-02-30T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-10T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:60:00Z',
    '2024-05-01T12:00:61Z',
    '2024-05-01T12:00:60Z',
    '2024-05-01T12:00:00+24:00',
    '2024-05-01T12:00:00+02:60',
    '2024-05-01T12:00:00',
    '2024-05-01 12:00:00Z',
    '2024-05-01T12:00Z',
    '2024-05-01',
    'Wed May 01 2024 12:00:00 GMT+0000',
    '+002024-05-01T12:00:00Z',
    '2024-05-01T12:00:00.Z',
  ])('refuses %s', (text) => {
    expect(parseDateTime(text)).toBeUndefined();
  });
});

describe('domains: ASCII case rules, IPv6 by value, the port exactly', () => {
  const listed = domainPolicy(['app.example', 'localhost:5173', '[::1]:5173', 'kelvin.example']);
  it.each([
    ['app.example', true],
    ['APP.Example', true],
    ['app.example:443', false],
    ['user@app.example', false],
    ['app.example.evil', false],
    ['localhost:5173', true],
    ['localhost:5174', false],
    ['localhost', false],
    ['[::1]:5173', true],
    ['[0:0:0:0:0:0:0:1]:5173', true],
    ['[::1]', false],
    ['kelvin.example', true],
    ['\u212Aelvin.example', false],
    ['\u212A', false],
  ])('a listed domain policy answers %s → %s', (domain, allowed) => {
    expect(listed(domain)).toBe(allowed);
  });

  const loopback = domainPolicy();
  it.each([
    ['localhost:5173', true],
    ['LOCALHOST', true],
    ['127.0.0.1:8080', true],
    ['127.1.2.3', true],
    ['[::1]:5173', true],
    ['[0::1]', true],
    ['[::2]', false],
    ['app.example', false],
    ['localhost.evil', false],
    ['test@localhost', false],
    ['loca\u212Ahost', false],
  ])('the default (loopback) policy answers %s → %s', (domain, allowed) => {
    expect(loopback(domain)).toBe(allowed);
  });

  it.each([['app.example:'], ['https://app.example'], ['user@app.example'], [''], ['\u212Aelvin.example']])(
    'refuses %j as a configured domain',
    (entry) => {
      expect(() => domainPolicy([entry])).toThrow(OptionsError);
    },
  );
});

describe('statements: EIP-4361 characters only', () => {
  it.each([
    [STATEMENT, undefined],
    ["I accept the Terms: https://app.example/tos?x=1#a (v2) & more; it's ok!", undefined],
    ['one\ntwo', 'must be one line (no line breaks)'],
    ['one\rtwo', 'must be one line (no line breaks)'],
    ['', 'must not be empty'],
    ['100% sure', 'holds U+0025'],
    ['say "hi"', 'holds U+0022'],
    ['café-project', 'holds U+00E9'],
    ['evil\u202Etxt.exe', 'holds U+202E'],
    ['tab\there', 'holds U+0009'],
  ])('%j → %s', (statement, problem) => {
    const found = statementProblem(statement);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it('assertStatement throws an OptionsError naming the option', () => {
    expect(() => assertStatement('a\u202Eb', 'login.statement')).toThrow(/option "login.statement" holds U\+202E/);
    expect(assertStatement(STATEMENT)).toBe(STATEMENT);
  });

  it.each([
    ['test-project', 'Sign in with your wallet to test-project'],
    ['café-project', 'Sign in with your wallet to cafe-project'],
    ['Ünïcödé  app', 'Sign in with your wallet to Unicode app'],
    ['"quoted"\n100%', 'Sign in with your wallet to quoted 100'],
    ['日本', 'Sign in with your wallet'],
  ])('the default statement for %j is %j', (audience, statement) => {
    expect(defaultStatement(audience)).toBe(statement);
  });

  it('the default statement is valid for any audience', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (audience) => {
        expect(statementProblem(defaultStatement(audience))).toBeUndefined();
      }),
    );
  });
});

describe('addresses: EIP-55 checksum case', () => {
  const fields = (address: string): SiweMessage => ({
    domain: 'localhost:5173',
    address,
    uri: 'http://localhost:5173/',
    version: '1',
    chainId: 1,
    nonce: NONCE,
    issuedAt: ISSUED_AT,
  });
  it.each([
    [account.address, undefined],
    [account.address.toLowerCase(), 'address_not_checksummed'],
    [`0x${account.address.slice(2).toUpperCase()}`, 'address_not_checksummed'],
    [account.address.slice(0, 41), 'address_invalid'],
    [account.address.replace('0x', '0X'), 'address_invalid'],
    ['', 'address_missing'],
  ])('%s → %s', (address, reason) => {
    if (reason === undefined) expect(parseSiweMessage(formatSiweMessage(fields(address))).address).toBe(address);
    else expect(refusal(() => formatSiweMessage(fields(address))).reason).toBe(reason);
  });
});

/** A login of `account` with the client's `context`, signed as `signer` over `signed` (default: the message itself). */
async function login(
  context: Record<string, unknown>,
  {
    signer = account,
    signed,
    now = NOW,
    compact = false,
  }: { signer?: typeof account; signed?: Record<string, unknown>; now?: number; compact?: boolean } = {},
) {
  const clock = new ManualClock(now);
  const issued = { address: account.address, nonce: NONCE, statement: STATEMENT, chainId: 1 };
  const text = formatSiweMessage({ version: '1', ...issued, ...(signed ?? context) } as SiweMessage);
  let signature = await signer.signMessage({ message: text });
  if (compact) signature = serializeCompactSignature(signatureToCompactSignature(parseSignature(signature)));
  return verifyLogin({ context, signature, issued }, { domains: domainPolicy(), now: clock.now() });
}

const CONTEXT = { domain: 'localhost:5173', uri: 'http://localhost:5173/login', chainId: 1, issuedAt: ISSUED_AT };

describe("the client's context: the fields the wallet chose, each refused with its own reason", () => {
  it('logs in with the fields picket-js sends', async () => {
    await expect(login(CONTEXT)).resolves.toMatchObject({ signer: 'eoa', message: { ...CONTEXT, nonce: NONCE } });
  });

  it('accepts an EIP-2098 compact (64-byte) signature', async () => {
    await expect(login(CONTEXT, { compact: true })).resolves.toMatchObject({ signer: 'eoa' });
  });

  it.each([
    ['64 zero bytes', `0x${'00'.repeat(64)}`],
    ['64 bytes whose r is past the curve order', `0x${'ff'.repeat(64)}`],
    ['65 zero bytes', `0x${'00'.repeat(65)}`],
  ])('refuses %s as signature_invalid, never a crash', async (_name, signature) => {
    const issued = { address: account.address, nonce: NONCE, statement: STATEMENT, chainId: 1 };
    await expect(
      verifyLogin({ context: CONTEXT, signature, issued }, { domains: domainPolicy(), now: NOW }),
    ).rejects.toMatchObject({ reason: 'signature_invalid', kind: 'refused' });
  });

  it('takes and enforces Expiration Time, Not Before, Request ID, Resources and scheme', async () => {
    const full = {
      ...CONTEXT,
      scheme: 'http',
      expirationTime: '2024-05-01T12:05:00+00:00',
      notBefore: '2024-05-01T13:00:00+01:00',
      requestId: 'req-42',
      resources: ['ipfs://bafybeigdyrzt5', 'https://app.example/terms'],
    };
    const result = await login(full);
    expect(result.text).toBe(
      [
        'http://localhost:5173 wants you to sign in with your Ethereum account:',
        account.address,
        '',
        STATEMENT,
        '',
        'URI: http://localhost:5173/login',
        'Version: 1',
        'Chain ID: 1',
        `Nonce: ${NONCE}`,
        `Issued At: ${ISSUED_AT}`,
        'Expiration Time: 2024-05-01T12:05:00+00:00',
        'Not Before: 2024-05-01T13:00:00+01:00',
        'Request ID: req-42',
        'Resources:',
        '- ipfs://bafybeigdyrzt5',
        '- https://app.example/terms',
      ].join('\n'),
    );
    // The optional fields are part of the signed text: a context without them is another message.
    const { requestId: _dropped, ...withoutRequestId } = full;
    await expect(login(withoutRequestId, { signed: full })).rejects.toMatchObject({ reason: 'signature_invalid' });
  });

  it.each([
    ['at Expiration Time', { expirationTime: '2024-05-01T12:00:30Z' }, 'expired'],
    ['after Expiration Time', { expirationTime: '2024-05-01T12:00:29.999Z' }, 'expired'],
    ['before Expiration Time', { expirationTime: '2024-05-01T12:00:30.001Z' }, undefined],
    ['more than the skew before Not Before', { notBefore: '2024-05-01T12:01:30.001Z' }, 'not_yet_valid'],
    ['within the skew of Not Before', { notBefore: '2024-05-01T12:01:30Z' }, undefined],
    ['issued beyond the skew in the future', { issuedAt: '2024-05-01T12:01:30.001Z' }, 'issued_at_in_future'],
    ['issued with an offset, without milliseconds', { issuedAt: '2024-05-01T14:00:00+02:00' }, undefined],
  ])('%s → %s', async (_case, change, reason) => {
    const result = login({ ...CONTEXT, ...change });
    if (reason === undefined) await expect(result).resolves.toMatchObject({ signer: 'eoa' });
    else await expect(result).rejects.toMatchObject({ reason, kind: 'refused' });
  });

  it.each([
    ['without uri', { uri: undefined }, 'uri_missing'],
    ['without domain', { domain: undefined }, 'domain_missing'],
    ['without issuedAt', { issuedAt: undefined }, 'issued_at_missing'],
    ['with an invalid uri', { uri: 'http://localhost:5173/a b' }, 'uri_invalid'],
    ['with an RTLO in the uri', { uri: '\u202Ehttp://localhost:5173/' }, 'uri_invalid'],
    ['with a bad resource', { resources: ['https://app.example', ':bad'] }, 'resources_invalid'],
    ['with February 30', { issuedAt: '2024-02-30T12:00:00Z' }, 'issued_at_invalid'],
    ['with hour 24', { expirationTime: '2024-05-01T24:00:00Z' }, 'expiration_time_invalid'],
    ['with a bad scheme', { scheme: 'ht tp' }, 'scheme_invalid'],
    ['with a bad request id', { requestId: 'a b' }, 'request_id_invalid'],
    ['for a domain not served', { domain: 'app.example' }, 'domain_not_allowed'],
    ['for the KELVIN SIGN look-alike of localhost', { domain: 'loca\u212Ahost' }, 'domain_invalid'],
    ['for another chain', { chainId: 137 }, 'chain_id_mismatch'],
    ['with another nonce', { nonce: 'zzzzzzzzzzzz' }, 'nonce_mismatch'],
    ['with another statement', { statement: 'Something else' }, 'statement_mismatch'],
    ['for another wallet', { address: other.address }, 'address_mismatch'],
  ])('a context %s is refused as %s, not as a bad signature', async (_case, change, reason) => {
    // The wallet signed the message of the complete context: only the field named is wrong.
    await expect(login({ ...CONTEXT, ...change }, { signed: CONTEXT })).rejects.toMatchObject({
      name: 'SiweError',
      reason,
    });
  });

  it('refuses a signature of another wallet as signature_invalid', async () => {
    await expect(login(CONTEXT, { signer: other })).rejects.toMatchObject({ reason: 'signature_invalid' });
  });

  it.each([
    ['not hex', 'hello', 'signature_malformed'],
    ['odd length', '0x123', 'signature_malformed'],
    ['a number', 42, 'signature_malformed'],
    ['65 zero bytes', `0x${'00'.repeat(65)}`, 'signature_invalid'],
    ['too long', `0x${'ab'.repeat(9000)}`, 'signature_malformed'],
  ])('refuses a signature that is %s', async (_case, signature, reason) => {
    const issued = { address: account.address, nonce: NONCE, statement: STATEMENT, chainId: 1 };
    await expect(
      verifyLogin({ context: CONTEXT, signature, issued }, { domains: domainPolicy(), now: NOW }),
    ).rejects.toMatchObject({ reason });
  });

  it('refuses a context that is not an object', () => {
    const issued = { address: account.address, nonce: NONCE, statement: STATEMENT, chainId: 1 };
    expect(refusal(() => messageFromContext('domain=x', issued)).reason).toBe('context_invalid');
  });

  it('a message sent whole is checked the same way', async () => {
    const text = formatSiweMessage({
      ...CONTEXT,
      address: account.address,
      statement: STATEMENT,
      version: '1',
      nonce: NONCE,
    });
    const issued = { address: account.address, nonce: NONCE, statement: STATEMENT, chainId: 1 };
    const signature = await account.signMessage({ message: text });
    await expect(
      verifyLogin({ message: text, signature, issued }, { domains: domainPolicy(), now: NOW }),
    ).resolves.toMatchObject({ signer: 'eoa', text });
    await expect(
      verifyLogin({ message: `${text}\n`, signature, issued }, { domains: domainPolicy(), now: NOW }),
    ).rejects.toMatchObject({ reason: 'message_invalid' });
    await expect(
      verifyLogin({ message: text.replace('\n', '\r\n'), signature, issued }, { domains: domainPolicy(), now: NOW }),
    ).rejects.toMatchObject({ reason: 'message_invalid' });
  });
});

describe("viem's SIWE client as a second implementation", () => {
  const cases: Array<Parameters<typeof createSiweMessage>[0]> = [
    {
      address: account.address,
      chainId: 1,
      domain: 'localhost:5173',
      nonce: NONCE,
      uri: 'http://localhost:5173/login',
      version: '1',
      issuedAt: new Date(Date.UTC(2024, 4, 1, 12)),
      statement: STATEMENT,
    },
    {
      address: account.address,
      chainId: 10,
      // viem's createSiweMessage refuses IPv6 domains ([::1]:5173); the picket-js fixtures cover them.
      domain: '127.0.0.1:5173',
      nonce: NONCE,
      uri: 'http://[::1]:5173/',
      version: '1',
      issuedAt: new Date(Date.UTC(2024, 4, 1, 12)),
      expirationTime: new Date(Date.UTC(2024, 4, 1, 13)),
      notBefore: new Date(Date.UTC(2024, 4, 1, 11)),
      requestId: 'abc',
      resources: ['https://app.example/a', 'ipfs://bafy'],
      scheme: 'http',
    },
    {
      address: account.address,
      chainId: 1,
      domain: 'app.example',
      nonce: NONCE,
      uri: 'https://app.example',
      version: '1',
      issuedAt: new Date(Date.UTC(2024, 4, 1, 12)),
      statement: "I accept the Terms: https://app.example/tos?v=2 (it's fine)",
    },
  ];

  it.each(cases.map((c, i) => [i, c] as const))(
    'case %i: a message viem builds parses, writes back and logs in',
    async (_i, fields) => {
      const text = createSiweMessage(fields);
      const parsed = parseSiweMessage(text);
      expect(formatSiweMessage(parsed)).toBe(text);
      expect(viemParseSiweMessage(formatSiweMessage(parsed))).toEqual(viemParseSiweMessage(text));
      const signature = await account.signMessage({ message: text });
      const issued = { address: account.address, nonce: NONCE, statement: fields.statement!, chainId: fields.chainId };
      await expect(
        verifyLogin(
          { message: text, signature, issued },
          { domains: domainPolicy([fields.domain]), now: Date.UTC(2024, 4, 1, 12, 0, 1) },
        ),
      ).resolves.toMatchObject({ signer: 'eoa' });
    },
  );
});
