/**
 * # Wallet login messages (EIP-4361, Sign-In with Ethereum)
 *
 * The issuer hands out a nonce and a statement; the wallet signs a message holding them; the
 * issuer reads or rebuilds that message, checks every field, then the signature. This module is
 * that core, without HTTP: `verifyLogin` does it all, the pieces are exported for the routes.
 *
 * ## What is checked, in this order (the first failure is the answer)
 *
 * 1. **Grammar** (`parseSiweMessage` for a text, `checkSiweFields` for fields; kind `malformed`):
 *    EIP-4361's ABNF to the letter. LF line breaks only, fields in the fixed order, nothing after
 *    the last one. `scheme` (optional, `scheme://domain`) an RFC 3986 scheme; `domain` an RFC
 *    3986 authority with a non-empty host (userinfo and port allowed, IPv6 literals in brackets);
 *    `address` `0x` + 40 hex digits in EIP-55 checksum case (`address_not_checksummed` for all
 *    lower or upper case); `statement` optional, one line of RFC 3986 reserved/unreserved
 *    characters and spaces (no line break, no `%`, no non-ASCII, no U+202E); `uri` and each
 *    resource an RFC 3986 URI (IPv4 octets 0-255 without leading zeros, IPv6 with the right
 *    number of groups); `version` `1`; `chainId` digits (no leading zeros, so the number writes
 *    back as the same text); `nonce` 8 or more ASCII letters or digits; `issuedAt`,
 *    `expirationTime`, `notBefore` RFC 3339 date-times with any offset, with or without
 *    fractional seconds, real ones (no February 30, no hour 24); `requestId` RFC 3986 pchars.
 *    Each field has `<field>_missing` and `<field>_invalid`; order and shape are `message_invalid`.
 * 2. **Expectations** (`validateSiweMessage`; kind `refused`): `domain_not_allowed` (the domain
 *    list: host compared in ASCII case only, never `toLowerCase`, so U+212A KELVIN SIGN is not
 *    `k`; IPv6 by value; the port exactly; default any loopback host), `scheme_mismatch` (when
 *    the message has a scheme and the issuer knows the page's), `address_mismatch`,
 *    `chain_id_mismatch`, `nonce_mismatch`, `statement_mismatch`, `request_id_mismatch`,
 *    `issued_at_in_future` (beyond the clock skew, default 60 s), `issued_at_too_old` (with
 *    `maxAgeMs`), `expired` (now at or past Expiration Time; no skew), `not_yet_valid` (now
 *    before Not Before, less the skew). Times are judged at the `now` the caller passes.
 * 3. **Signature** (kind `refused`, or `unavailable` when the chain cannot be asked):
 *    `signature_malformed` (not hex, too long), `signature_invalid` (recovers another key and no
 *    contract wallet says yes), `signature_unverifiable` (the RPC failed or timed out). EOAs
 *    offline (65 bytes, `v` 27/28 or 0/1; EIP-2098 64-byte compact); contract wallets (EIP-1271)
 *    and counterfactual ones (EIP-6492) through viem's `verifyMessage` on the RPC URL of the
 *    message's chain id. Solana (picket-js's variant, `../solana`): Ed25519 over the UTF-8 text.
 *
 * Error answers carry `reason`, `message`, `field` and `kind` (`SiweError`); an issuer answers
 * `malformed` with 400, `refused` with 401, `unavailable` with 503.
 *
 * The configured statement is checked at startup with `assertStatement`; `defaultStatement`
 * builds a valid one from any audience (accents dropped by NFKD, other refused characters
 * dropped: `café-project` → `Sign in with your wallet to cafe-project`).
 */
import { refused, SiweError, type SiweField } from './errors';
import { checkSiweFields, formatSiweMessage, parseSiweMessage, type AccountKind, type SiweMessage } from './message';
import { validateSiweMessage, type SiweExpectations } from './validate';
import { evmSignatureVerifier, type EvmSignatureVerifier, type SignerKind } from './verify';
import { formatSolanaMessage, parseSolanaMessage, solanaStatement, verifySolanaSignature } from '../solana';

export { SiweError, type SiweErrorKind, type SiweField } from './errors';
export {
  checkSiweFields,
  formatSiweMessage,
  formatSimpleMessage,
  parseSiweMessage,
  MAX_MESSAGE_LENGTH,
  MAX_RESOURCES,
  type AccountKind,
  type MessageOptions,
  type SiweMessage,
} from './message';
export { parseDateTime, parseUri, parseAuthority, type UriParts, type Authority } from './grammar';
export { assertStatement, defaultStatement, statementProblem } from './statement';
export {
  domainPolicy,
  validateSiweMessage,
  DEFAULT_CLOCK_SKEW_MS,
  type DomainPolicy,
  type SiweExpectations,
} from './validate';
export {
  evmSignatureVerifier,
  MAX_SIGNATURE_BYTES,
  type EvmSignatureOptions,
  type EvmSignatureVerifier,
  type SignatureCheck,
  type SignerKind,
} from './verify';

/** The fields a client's `context` may carry: what the wallet chose, not what the issuer handed out. */
const CLIENT_FIELDS = [
  'scheme',
  'domain',
  'uri',
  'issuedAt',
  'expirationTime',
  'notBefore',
  'requestId',
  'resources',
] as const;

/** Fields the issuer owns; a context that repeats one must agree with the issuer. */
const ISSUER_FIELDS: ReadonlyArray<[SiweField, string, string]> = [
  ['address', 'address_mismatch', 'context.address is not the wallet of the request'],
  ['nonce', 'nonce_mismatch', 'context.nonce is not the nonce issued for this login'],
  ['statement', 'statement_mismatch', 'context.statement is not the statement asked for'],
  ['chainId', 'chain_id_mismatch', "context.chainId is not the chain id of the request's chain"],
];

export interface IssuedFields {
  /** The wallet of the request. */
  address: string;
  /** The nonce the issuer handed out. */
  nonce: string;
  /** The statement the issuer asked for (for Solana as configured: the rewrite is applied here). */
  statement: string;
  /** The chain id of the request's chain. */
  chainId: number;
}

/**
 * The message a client's `context` describes (picket-js sends `{ domain, uri, chainId, issuedAt }`;
 * `scheme`, `expirationTime`, `notBefore`, `requestId`, `resources` are taken too), completed
 * with the issuer's own fields. Other keys (`locale`, `chainType`) are ignored.
 */
export function messageFromContext(
  context: unknown,
  issued: IssuedFields,
  account: AccountKind = 'ethereum',
): SiweMessage {
  if (typeof context !== 'object' || context === null || Array.isArray(context))
    throw new SiweError('context_invalid', 'A SIWE login needs context { domain, uri, issuedAt, … }', 'message');
  const given = context as Record<string, unknown>;
  const statement = account === 'solana' ? solanaStatement(issued.statement) : issued.statement;
  const own: Record<string, unknown> = { ...issued, statement };
  for (const [field, reason, message] of ISSUER_FIELDS) {
    const value = given[field];
    if (value === undefined || value === null) continue;
    const expected = own[field];
    const same =
      field === 'address' && account === 'ethereum'
        ? typeof value === 'string' && value.toLowerCase() === issued.address.toLowerCase()
        : value === expected || (field === 'statement' && value === issued.statement);
    if (!same) throw refused(reason, message, field);
  }
  const fields: Record<string, unknown> = { version: '1', ...own };
  for (const key of CLIENT_FIELDS) if (Object.hasOwn(given, key)) fields[key] = given[key];
  return checkSiweFields(fields, { account });
}

export interface LoginAttempt {
  account?: AccountKind;
  /** The signed text, when the client sends it whole. */
  message?: unknown;
  /** The client's context, when the issuer rebuilds the text (picket-js's way). */
  context?: unknown;
  signature: unknown;
  issued: IssuedFields;
}

export interface LoginResult {
  message: SiweMessage;
  /** The text whose signature was checked. */
  text: string;
  signer: SignerKind | 'ed25519';
}

/**
 * Checks a login: reads or rebuilds the message, validates it against the issuer's expectations,
 * then verifies the signature. Throws the first `SiweError`.
 *
 * @example
 * await verifyLogin(
 *   { context: body.context, signature: body.signature, issued: { address, nonce, statement, chainId: 1 } },
 *   { domains: domainPolicy(['app.example']), now: clock.now() },
 *   evmSignatureVerifier({ rpcUrls: { 1: 'https://rpc.example' } }), // built once, at startup
 * );
 */
export async function verifyLogin(
  attempt: LoginAttempt,
  expect: Omit<SiweExpectations, 'nonce' | 'address' | 'chainId' | 'statement' | 'account'>,
  evm?: EvmSignatureVerifier,
): Promise<LoginResult> {
  const account = attempt.account ?? 'ethereum';
  const { issued } = attempt;
  let message: SiweMessage;
  let text: string;
  if (attempt.message !== undefined) {
    message = account === 'solana' ? parseSolanaMessage(attempt.message) : parseSiweMessage(attempt.message);
    text = attempt.message as string;
  } else {
    message = messageFromContext(attempt.context, issued, account);
    text = account === 'solana' ? formatSolanaMessage(message) : formatSiweMessage(message);
  }
  validateSiweMessage(message, {
    ...expect,
    account,
    nonce: issued.nonce,
    address: issued.address,
    chainId: issued.chainId,
    statement: account === 'solana' ? solanaStatement(issued.statement) : issued.statement,
  });
  if (account === 'solana') {
    verifySolanaSignature({ message: text, address: message.address, signature: attempt.signature });
    return { message, text, signer: 'ed25519' };
  }
  // Without a verifier: EOAs only (no RPC URL for contract wallets).
  const signer = await (evm ?? evmSignatureVerifier()).verify({
    message: text,
    address: message.address,
    signature: attempt.signature,
    chainId: message.chainId,
  });
  return { message, text, signer };
}
