/**
 * Solana wallets and picket-js's own message builder: test/fixtures/siwe/picket-js/messages.json
 * holds what `Picket.createSigningMessage` of @picketapi/picket-js@0.0.102 wrote, run in Node, and
 * the Ed25519 signatures of those texts by a fixed test key (its seed is in the file).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { base58 } from '@scure/base';
import {
  domainPolicy,
  formatSimpleMessage,
  formatSiweMessage,
  parseSiweMessage,
  verifyLogin,
  type SiweMessage,
} from '../../lib/issuer/siwe';
import { formatSolanaMessage, parseSolanaMessage, verifySolanaSignature } from '../../lib/issuer/solana';

interface PicketCase {
  name: string;
  args: Record<string, unknown> & { format: 'siwe' | 'simple'; chainType: string; statement: string; nonce: string };
  message: string;
  signature?: string;
}
const fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../fixtures/siwe/picket-js/messages.json'), 'utf8'),
) as {
  seedHex: string;
  solanaAddress: string;
  cases: PicketCase[];
};
const byName = (name: string) => fixture.cases.find((c) => c.name === name)!;

function fieldsOf(args: PicketCase['args']): SiweMessage {
  return {
    domain: args.domain as string,
    address: args.walletAddress as string,
    statement: args.statement,
    uri: args.uri as string,
    version: '1',
    chainId: args.chainId as number,
    nonce: args.nonce,
    issuedAt: args.issuedAt as string,
  };
}

const privateKey = crypto.createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(fixture.seedHex, 'hex')]),
  format: 'der',
  type: 'pkcs8',
});
const sign = (text: string) => base58.encode(crypto.sign(null, Buffer.from(text, 'utf8'), privateKey));

describe("picket-js's messages are written byte for byte", () => {
  it.each(fixture.cases.filter((c) => c.args.format === 'siwe').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const format = c.args.chainType === 'solana' ? formatSolanaMessage : formatSiweMessage;
    expect(format(fieldsOf(c.args))).toBe(c.message);
    const parse = c.args.chainType === 'solana' ? parseSolanaMessage : parseSiweMessage;
    expect(parse(c.message).address).toBe(c.args.walletAddress);
  });

  it('the simple format', () => {
    const c = byName('solana simple');
    expect(
      formatSimpleMessage({ statement: c.args.statement, address: fixture.solanaAddress, nonce: c.args.nonce }),
    ).toBe(c.message);
  });
});

describe('Solana signatures: Ed25519 over the UTF-8 text, base58', () => {
  it.each(fixture.cases.filter((c) => c.signature !== undefined).map((c) => [c.name, c] as const))(
    "accepts picket-js's %s signed by the wallet",
    (_name, c) => {
      expect(() =>
        verifySolanaSignature({ message: c.message, address: fixture.solanaAddress, signature: c.signature }),
      ).not.toThrow();
    },
  );

  const c = byName('solana siwe');
  const other = base58.encode(
    Buffer.from(crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url'),
  );
  it.each([
    ['another message', { message: `${c.message} ` }, 'signature_invalid'],
    ['another wallet', { address: other }, 'signature_invalid'],
    ['a hex signature', { signature: `0x${'ab'.repeat(64)}` }, 'signature_malformed'],
    ['a short signature', { signature: base58.encode(new Uint8Array(63).fill(1)) }, 'signature_malformed'],
    ['an address of 31 bytes', { address: base58.encode(new Uint8Array(31).fill(9)) }, 'address_invalid'],
    ['an EVM address', { address: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2' }, 'address_invalid'],
  ])('refuses %s', (_case, change, reason) => {
    expect(() =>
      verifySolanaSignature({ message: c.message, address: fixture.solanaAddress, signature: c.signature, ...change }),
    ).toThrow(expect.objectContaining({ reason }));
  });
});

describe('a Solana login from the context picket-js sends', () => {
  const c = byName('solana siwe, "Ethereum" in the statement becomes "Solana"');
  const issued = { address: fixture.solanaAddress, nonce: c.args.nonce, statement: c.args.statement, chainId: 101 };
  const context = {
    domain: c.args.domain,
    uri: c.args.uri,
    chainId: 101,
    issuedAt: c.args.issuedAt,
    chainType: 'solana',
  };
  const expectations = { domains: domainPolicy(['app.example']), now: Date.UTC(2024, 4, 1, 12, 0, 5) };

  it('logs in with the configured statement, rewritten as picket-js does', async () => {
    await expect(
      verifyLogin({ account: 'solana', context, signature: c.signature, issued }, expectations),
    ).resolves.toMatchObject({ signer: 'ed25519', text: c.message });
  });

  it('logs in with the message sent whole', async () => {
    await expect(
      verifyLogin({ account: 'solana', message: c.message, signature: c.signature, issued }, expectations),
    ).resolves.toMatchObject({ signer: 'ed25519' });
  });

  it.each([
    ['a domain', { domain: 'Ethereum.example' }, 'domain_invalid'],
    ['a uri', { uri: 'https://app.example/Ethereum' }, 'uri_invalid'],
    ['a resource', { resources: ['https://app.example/Ethereum'] }, 'resources_invalid'],
  ])('refuses %s holding "Ethereum", which the signed text would show rewritten', async (_case, change, reason) => {
    const text = formatSiweMessage({
      ...fieldsOf(c.args),
      address: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2',
      ...change,
    });
    const signature = sign(text.replaceAll('Ethereum', 'Solana'));
    await expect(
      verifyLogin(
        { account: 'solana', context: { ...context, ...change }, signature, issued },
        {
          ...expectations,
          domains: () => true,
        },
      ),
    ).rejects.toMatchObject({ reason });
  });

  it('refuses a context that names another nonce than the pending one as nonce_mismatch', async () => {
    const attempt = {
      account: 'solana' as const,
      context: { ...context, nonce: c.args.nonce },
      signature: c.signature,
    };
    await expect(
      verifyLogin({ ...attempt, issued: { ...issued, nonce: 'other0nonce' } }, expectations),
    ).rejects.toMatchObject({
      reason: 'nonce_mismatch',
    });
  });
});
