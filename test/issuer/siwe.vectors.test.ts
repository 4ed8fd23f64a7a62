/**
 * spruceid/siwe's test vectors (test/fixtures/siwe, MIT / Apache-2.0), every one run as a table:
 * messages that must parse to their fields, messages and field objects that must be refused, the
 * URIs of its pull request 200, and the verification cases. Where this module deliberately
 * differs, the vector is listed in test/fixtures/siwe/README.md and in DIVERGENT below.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  checkSiweFields,
  domainPolicy,
  evmSignatureVerifier,
  formatSiweMessage,
  parseSiweMessage,
  parseUri,
  SiweError,
  validateSiweMessage,
  verifyLogin,
  type SiweMessage,
} from '../../lib/issuer/siwe';

const DIR = path.join(__dirname, '../fixtures/siwe');
const load = <T>(file: string): Record<string, T> =>
  JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as Record<string, T>;

/** Vectors this module treats differently, with the reason (test/fixtures/siwe/README.md). */
const DIVERGENT: Record<string, string> = {
  'IPv4address leading zeros: uri://[::000.000.010.001]': 'RFC 3986 dec-octet has no leading zeros',
  'IPv4address max value: uri://[::001.099.200.255]': 'RFC 3986 dec-octet has no leading zeros',
  'expired message': 'judged at a time before its Issued At: refused as issued_at_in_future',
};

function refusal(run: () => unknown): SiweError {
  try {
    run();
  } catch (error) {
    if (error instanceof SiweError) return error;
    throw error;
  }
  throw new Error('was accepted');
}

describe('parsing_positive.json: messages that parse to their fields and write back unchanged', () => {
  const vectors = Object.entries(load<{ message: string; fields: Record<string, unknown> }>('parsing_positive.json'));
  it.each(vectors)('%s', (_name, { message, fields }) => {
    const parsed = parseSiweMessage(message);
    const expected = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined));
    expect(parsed).toEqual(expected);
    expect(formatSiweMessage(parsed)).toBe(message);
  });
});

describe.each(['parsing_negative.json', 'v3.0.0-beta.parsing_negative.json'])('%s: messages refused', (file) => {
  it.each(Object.entries(load<string>(file)))('%s', (_name, message) => {
    expect(refusal(() => parseSiweMessage(message)).kind).toBe('malformed');
  });
});

describe.each(['parsing_negative_objects.json', 'v3.0.0-beta.parsing_negative_objects.json'])(
  '%s: field objects refused',
  (file) => {
    it.each(Object.entries(load<Record<string, unknown>>(file)))('%s', (_name, fields) => {
      expect(refusal(() => checkSiweFields(fields)).kind).toBe('malformed');
      expect(() => formatSiweMessage(fields as unknown as SiweMessage)).toThrow(SiweError);
    });
  },
);

describe('pr200.message_objects.json: field objects accepted or refused as the vector says', () => {
  it.each(Object.entries(load<{ msg: Record<string, unknown>; error: string }>('pr200.message_objects.json')))(
    '%s',
    (_name, { msg, error }) => {
      if (error === 'none') expect(parseSiweMessage(formatSiweMessage(msg as unknown as SiweMessage))).toEqual(msg);
      else expect(refusal(() => checkSiweFields(msg)).kind).toBe('malformed');
    },
  );
});

interface UriParts {
  scheme?: string;
  userinfo?: string | null;
  host?: string | null;
  port?: number | string | null;
  path?: string;
  query?: string | null;
  fragment?: string | null;
}

describe('pr200.valid_uris.json: URIs accepted, read into their parts', () => {
  const vectors = Object.entries(load<{ msg: string; uri: UriParts }>('pr200.valid_uris.json')).filter(
    ([name]) => !(name in DIVERGENT),
  );
  it.each(vectors)('%s', (_name, { msg, uri }) => {
    const parsed = parseSiweMessage(msg);
    const parts = parseUri(parsed.uri)!;
    const actual: UriParts = {
      scheme: parts.scheme,
      userinfo: parts.authority?.userinfo ?? null,
      host: parts.authority ? parts.authority.host.text : null,
      port:
        parts.authority?.port === undefined ? null : parts.authority.port === '' ? '' : Number(parts.authority.port),
      path: parts.path,
      query: parts.query ?? null,
      fragment: parts.fragment ?? null,
    };
    for (const [key, value] of Object.entries(uri)) expect([key, actual[key as keyof UriParts]]).toEqual([key, value]);
  });
});

describe('pr200.invalid_uris.json: URIs refused', () => {
  it.each(Object.entries(load<string>('pr200.invalid_uris.json')))('%s', (_name, message) => {
    expect(refusal(() => parseSiweMessage(message)).reason).toBe('uri_invalid');
  });
});

describe('the divergent pr200 vectors are refused, as README.md says', () => {
  it.each(Object.keys(DIVERGENT).filter((name) => name.startsWith('IPv4')))('%s', (name) => {
    const { msg } = load<{ msg: string }>('pr200.valid_uris.json')[name]!;
    expect(refusal(() => parseSiweMessage(msg)).reason).toBe('uri_invalid');
  });
});

interface VerificationVector extends Record<string, unknown> {
  signature: string;
  time?: string;
  domainBinding?: string;
  matchNonce?: string;
}

/** The verification vectors' fields as a message, and the login of that message. */
function loginOf(vector: VerificationVector) {
  const { signature, time, domainBinding, matchNonce, ...fields } = vector;
  return {
    fields: fields as unknown as SiweMessage,
    run: () =>
      verifyLogin(
        {
          context: fields,
          signature,
          issued: {
            address: fields.address as string,
            nonce: matchNonce ?? (fields.nonce as string),
            statement: fields.statement as string,
            chainId: fields.chainId as number,
          },
        },
        {
          domains: domainPolicy([domainBinding ?? (fields.domain as string)]),
          now: Date.parse(time ?? '2024-01-01T00:00:00Z'),
        },
        evmSignatureVerifier(),
      ),
  };
}

describe('verification_positive.json: signed messages that log in at their time', () => {
  const vectors = Object.entries(load<VerificationVector>('verification_positive.json'));
  it.each(vectors.filter(([name]) => !(name in DIVERGENT)))('%s', async (_name, vector) => {
    // "not yet valid" holds at the vector's own time, after its Not Before.
    const { fields } = loginOf(vector);
    await expect(loginOf(vector).run()).resolves.toMatchObject({ signer: 'eoa', message: fields });
  });

  it('"expired message" at its time (before its Issued At) is refused as issued in the future (README.md)', async () => {
    const vector = Object.fromEntries(vectors)['expired message']!;
    await expect(loginOf(vector).run()).rejects.toMatchObject({ reason: 'issued_at_in_future' });
  });
});

describe('verification_negative.json: signed messages refused, each with its reason', () => {
  const REASONS: Record<string, string> = {
    'expired message': 'expired',
    'domain binding': 'domain_not_allowed',
    'custom time': 'expired',
    'custom nonce': 'nonce_mismatch',
    'malformed signature': 'signature_malformed',
    'wrong signature': 'signature_invalid',
    'not yet valid': 'not_yet_valid',
    'invalid issuedAt': 'issued_at_invalid',
    'invalid notBefore': 'not_before_invalid',
    'invalid expirationTime': 'expiration_time_invalid',
  };
  it.each(Object.entries(load<VerificationVector>('verification_negative.json')))('%s', async (name, vector) => {
    await expect(loginOf(vector).run()).rejects.toMatchObject({ name: 'SiweError', reason: REASONS[name] });
  });

  it('names a reason for every vector', () => {
    expect(Object.keys(REASONS).sort()).toEqual(Object.keys(load('verification_negative.json')).sort());
  });
});

describe('eip1271.json: contract-wallet messages parse (their wallets live on Ethereum mainnet)', () => {
  it.each(Object.entries(load<{ message: string; signature: string }>('eip1271.json')))(
    '%s',
    async (_name, { message, signature }) => {
      const parsed = parseSiweMessage(message);
      validateSiweMessage(parsed, {
        domains: domainPolicy(),
        nonce: parsed.nonce,
        now: Date.parse(parsed.issuedAt),
      });
      // Offline, the signature recovers no key of the contract: refused, never accepted.
      await expect(
        evmSignatureVerifier().verify({ message, address: parsed.address, signature, chainId: 1 }),
      ).rejects.toMatchObject({ reason: 'signature_invalid' });
    },
  );
});
