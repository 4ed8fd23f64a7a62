/**
 * Wallet login, as the issuer's clients perform it:
 * 1. `POST /auth/nonce { chain, walletAddress, locale? }` → `{ nonce, statement, format }`;
 * 2. the wallet signs the message the client builds from it: `simple`
 *    (`<statement>\n\nAddress: <wallet>\nNonce: <nonce>`) or `siwe` (EIP-4361, from the client's
 *    `context`: domain, uri, chainId, issuedAt);
 * 3. `POST /auth { chain, walletAddress, signature, context?, requirements? }` → `{ accessToken, user }`.
 * The issuer rebuilds the message, recovers the signer with viem and checks nonce, domain, chain
 * id and age. A nonce serves one login attempt, successful or not. EVM chains only.
 */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { addressKey, isEvmAddress } from '../chain/address';
import type { AccessTokenClaims } from '../token/claims';
import { upgradeClaims } from './proofs';
import { withHoldings } from './holdings';
import { chainInfo, type ChainInfo } from './chains';
import { authState, bodyObject, optionalRequirementsFor, type Answer, type EmulatorContext } from './context';
import { ApiError, badRequest, fromGateError, loginRefused } from './errors';
import { walletCrypto } from './viem';

export type MessageFormat = 'siwe' | 'simple';

export interface LoginSettings {
  /** The message format `/auth/nonce` announces. */
  format: MessageFormat;
  /** The statement the wallet signs. */
  statement: string;
  /** Whether a SIWE message's `domain` (host[:port]) may log in. */
  allowsDomain(domain: string): boolean;
  /** How long a nonce and a SIWE message's `issuedAt` stay good. */
  nonceTtlMs: number;
}

/** Tolerated clock difference between the browser and the issuer. */
const CLOCK_SKEW_MS = 60_000;
/** Pending nonces kept at most (one per wallet and chain). */
const MAX_PENDING_NONCES = 10_000;

interface PendingNonce {
  nonce: string;
  format: MessageFormat;
  statement: string;
  issuedAtMs: number;
}

/** The nonce each wallet may sign next, one per wallet and chain; taking one removes it. */
export class NonceStore {
  private readonly pending = new LRUCache<string, PendingNonce>({ max: MAX_PENDING_NONCES });

  issue(chain: string, wallet: string, settings: LoginSettings): PendingNonce {
    const entry = {
      nonce: randomBytes(16).toString('hex'),
      format: settings.format,
      statement: settings.statement,
      issuedAtMs: Date.now(),
    };
    this.pending.set(`${chain}:${addressKey(chain, wallet)}`, entry);
    return entry;
  }

  take(chain: string, wallet: string): PendingNonce | undefined {
    const key = `${chain}:${addressKey(chain, wallet)}`;
    const entry = this.pending.get(key);
    this.pending.delete(key);
    return entry;
  }
}

/** The chain of a login request: an EVM chain the issuer knows (default `ethereum`). */
function loginChain(value: unknown): ChainInfo {
  const slug = value ?? 'ethereum';
  const info = typeof slug === 'string' ? chainInfo(slug) : undefined;
  if (!info || info.chainType !== 'ethereum') {
    throw badRequest(
      'chain_not_supported',
      'The emulator signs in EVM wallets only (ethereum, polygon, optimism, arbitrum)',
    );
  }
  return info;
}

function loginWallet(value: unknown): string {
  if (typeof value !== 'string' || !isEvmAddress(value))
    throw badRequest('request_invalid', 'walletAddress must be a 0x address');
  return value;
}

export function nonce(context: EmulatorContext, input: unknown): Answer {
  const body = bodyObject(input);
  const chain = loginChain(body.chain);
  const walletAddress = loginWallet(body.walletAddress);
  const { nonce: value, statement, format } = context.nonces.issue(chain.chainSlug, walletAddress, context.login);
  return { status: 200, body: { nonce: value, statement, format } };
}

export async function auth(context: EmulatorContext, input: unknown): Promise<Answer> {
  const body = bodyObject(input);
  const chain = loginChain(body.chain);
  const walletAddress = loginWallet(body.walletAddress);
  const { signature } = body;
  if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]{1,1024}$/.test(signature)) {
    throw badRequest('request_invalid', 'signature must be a 0x hex string');
  }
  // Requirements are read before the nonce is spent: a typo in them costs no signature.
  const requirement = optionalRequirementsFor(body.requirements, chain.chainSlug);
  const crypto = await walletCrypto();

  const pending = context.nonces.take(chain.chainSlug, walletAddress);
  if (!pending)
    throw loginRefused(
      'nonce_invalid',
      'No nonce is pending for this wallet: ask /auth/nonce (a nonce serves one login)',
    );
  if (Date.now() - pending.issuedAtMs >= context.login.nonceTtlMs)
    throw loginRefused('nonce_expired', 'The nonce has expired: ask /auth/nonce again');

  const message =
    pending.format === 'simple'
      ? simpleMessage(pending, walletAddress)
      : siweMessage(context, crypto, pending, walletAddress, chain, body.context);
  let signer: string;
  try {
    signer = await crypto.recoverMessageAddress({ message, signature: signature as `0x${string}` });
  } catch {
    throw loginRefused('signature_invalid', 'The signature is not a valid wallet signature');
  }
  if (signer.toLowerCase() !== walletAddress.toLowerCase()) {
    throw loginRefused('signature_invalid', 'The message was not signed by this wallet');
  }

  let claims: Record<string, unknown> = { walletAddress, displayAddress: walletAddress, chain: chain.chainSlug };
  if (requirement) {
    const holder = { walletAddress, chain: chain.chainSlug };
    const upgrade = await withHoldings(context.ownership, context.ownershipTimeoutMs, holder, (held) =>
      upgradeClaims(claims as AccessTokenClaims, requirement, held),
    );
    if ('refusal' in upgrade) throw fromGateError(upgrade.refusal);
    claims = upgrade.claims;
  }
  // The session outlives its tokens by a few seconds: a token signed a second later than the
  // session started still ends within it.
  const exp = Math.floor(Date.now() / 1000) + context.sessionSeconds;
  const sid = await context.sessions.start(exp + 5, { walletAddress, chain: chain.chainSlug });
  const token = await context.signer.sign({ ...claims, sid }, { expiresIn: context.sessionSeconds });
  return { status: 200, body: authState(token) };
}

/** picket-js's `simple` format. */
function simpleMessage(pending: PendingNonce, walletAddress: string): string {
  return `${pending.statement}\n\nAddress: ${walletAddress}\nNonce: ${pending.nonce}`;
}

/** The EIP-4361 message the client signed, rebuilt from its `context` after checking it. */
function siweMessage(
  context: EmulatorContext,
  crypto: Awaited<ReturnType<typeof walletCrypto>>,
  pending: PendingNonce,
  walletAddress: string,
  chain: ChainInfo,
  input: unknown,
): string {
  const { domain, uri, chainId, issuedAt } = (typeof input === 'object' && input !== null ? input : {}) as Record<
    string,
    unknown
  >;
  if (
    typeof domain !== 'string' ||
    typeof uri !== 'string' ||
    typeof chainId !== 'number' ||
    typeof issuedAt !== 'string'
  ) {
    throw badRequest('context_invalid', 'A SIWE login needs context { domain, uri, chainId, issuedAt }');
  }
  if (!context.login.allowsDomain(domain))
    throw loginRefused('domain_not_allowed', 'The message was signed for a domain this issuer does not serve');
  if (chainId !== chain.chainId)
    throw badRequest('context_invalid', `context.chainId must be ${chain.chainId} for ${chain.chainSlug}`);
  const issued = new Date(issuedAt);
  // The message holds issuedAt as written; only the form Date#toISOString writes is rebuilt exactly.
  if (Number.isNaN(issued.getTime()) || issued.toISOString() !== issuedAt) {
    throw badRequest(
      'context_invalid',
      'context.issuedAt must be an ISO 8601 UTC time such as new Date().toISOString() writes',
    );
  }
  const age = Date.now() - issued.getTime();
  if (age > context.login.nonceTtlMs + CLOCK_SKEW_MS)
    throw loginRefused('message_expired', 'The signed message is too old: sign in again');
  if (age < -CLOCK_SKEW_MS) throw badRequest('context_invalid', 'context.issuedAt is in the future');
  try {
    return crypto.createSiweMessage({
      address: walletAddress as `0x${string}`,
      chainId,
      domain,
      nonce: pending.nonce,
      uri,
      version: '1',
      issuedAt: issued,
      statement: pending.statement,
    });
  } catch (error) {
    throw new ApiError(
      400,
      'context_invalid',
      `The SIWE context is not usable: ${(error as { shortMessage?: string }).shortMessage ?? 'invalid field'}`,
    );
  }
}
