/**
 * Solana wallets log in with the message picket-js builds for them: the EIP-4361 text of the
 * same fields with "Ethereum" replaced by "Solana" everywhere (`replaceAll`, statement included),
 * the wallet's base58 public key as the address, and the chain id of `GET /chains/solana` (101).
 * The wallet signs the UTF-8 bytes with Ed25519 and sends the 64-byte signature in base58.
 *
 * Because the replacement runs over the whole text, a domain, URI, request id or resource holding
 * "Ethereum" would be signed as something else than the issuer checks: such a message is refused
 * (`<field>_invalid`) instead of being rebuilt.
 */
import { createPublicKey, verify } from 'node:crypto';
import { base58 } from '@scure/base';
import { solanaPublicKey } from './siwe/address';
import { invalid, refused, SiweError, type SiweField } from './siwe/errors';
import { checkSiweFields, formatSiweMessage, parseSiweMessage, type SiweMessage } from './siwe/message';

/** The text picket-js writes where EIP-4361 says Ethereum. */
const REWRITTEN = 'Ethereum';

/** The statement as a Solana wallet signs it (picket-js rewrites "Ethereum" in it too). */
export function solanaStatement(statement: string): string {
  return statement.replaceAll(REWRITTEN, 'Solana');
}

function refuseRewritten(message: SiweMessage): void {
  const fields: Array<[SiweField, string | undefined]> = [
    ['scheme', message.scheme],
    ['domain', message.domain],
    ['uri', message.uri],
    ['requestId', message.requestId],
    ...(message.resources ?? []).map((r): [SiweField, string] => ['resources', r]),
  ];
  for (const [field, value] of fields) {
    if (value?.includes(REWRITTEN))
      throw invalid(field, `${field} holds "${REWRITTEN}", which picket-js rewrites in Solana messages`);
  }
}

/** picket-js's Solana login message for these fields (`Picket.createSigningMessage`, chainType solana). */
export function formatSolanaMessage(fields: SiweMessage): string {
  const message = checkSiweFields(fields, { account: 'solana' });
  refuseRewritten(message);
  return solanaStatement(formatSiweMessage(message, { account: 'solana' }));
}

/** Reads a Solana login message; its statement is as signed (already rewritten). */
export function parseSolanaMessage(text: unknown): SiweMessage {
  const message = parseSiweMessage(text, { account: 'solana' });
  refuseRewritten(message);
  return message;
}

export function isSolanaAddress(address: string): boolean {
  return solanaPublicKey(address) !== undefined;
}

/**
 * Checks that `signature` (base58, 64 bytes) is the Ed25519 signature of the UTF-8 bytes of
 * `message` by the key `address` (base58, 32 bytes). Throws `SiweError`: `signature_malformed`,
 * `address_invalid` or `signature_invalid`.
 */
export function verifySolanaSignature({
  message,
  address,
  signature,
}: {
  message: string;
  address: string;
  signature: unknown;
}): void {
  const key = solanaPublicKey(address);
  if (!key) throw invalid('address', 'address must be a base58 Solana public key');
  let bytes: Uint8Array | undefined;
  if (typeof signature === 'string' && /^[1-9A-HJ-NP-Za-km-z]{64,88}$/.test(signature)) {
    try {
      bytes = base58.decode(signature);
    } catch {
      bytes = undefined;
    }
  }
  if (!bytes || bytes.length !== 64)
    throw new SiweError('signature_malformed', 'signature must be a base58 Ed25519 signature (64 bytes)', 'signature');
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key).toString('base64url') },
    format: 'jwk',
  });
  if (!verify(null, Buffer.from(message, 'utf8'), publicKey, bytes))
    throw refused('signature_invalid', 'The message was not signed by this wallet', 'signature');
}
