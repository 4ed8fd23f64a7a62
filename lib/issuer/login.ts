/**
 * Wallet login, as the issuer's clients perform it:
 * 1. `POST /auth/nonce { chain, walletAddress, locale? }` → `{ nonce, statement, format }`;
 * 2. the wallet signs the message the client builds from it: `simple`
 *    (`<statement>\n\nAddress: <wallet>\nNonce: <nonce>`) or `siwe` (EIP-4361, from the client's
 *    `context`: domain, uri, issuedAt and the optional scheme, expirationTime, notBefore,
 *    requestId, resources; picket-js's Solana variant on chain `solana`);
 * 3. `POST /auth { chain, walletAddress, signature, context?, requirements? }` → `{ accessToken, user }`,
 *    or, from a standard SIWE client, `POST /auth { message, signature, requirements? }` with the
 *    whole signed EIP-4361 text (then the message names the wallet, chain and nonce).
 *
 * A browser's `Origin` on `/auth` must be the page the message was signed for: the message's
 * domain and scheme (absent: https, or http on a loopback host) agree with it, or 403.
 *
 * Nonces live in the issuer store: a wallet holds several pending at once (one per open tab, the
 * store bounds them), each for one login, on every instance sharing the store. The client does
 * not say which nonce it signed (picket-js sends none; `context.nonce` may name it), so `/auth`
 * rebuilds the message for each nonce pending for the wallet, checks it with `./siwe`, and takes
 * with `consumeNonce` only the one whose message the signature verifies. A failed attempt takes
 * nothing: whoever knows a wallet's address can neither burn nor replace its pending nonces.
 */
import { randomBytes } from 'node:crypto';
import { addressKey, isEvmAddress } from '../chain/address';
import type { AccessTokenClaims } from '../token/claims';
import { upgradeClaims } from './proofs';
import { withHoldings } from './holdings';
import { chainInfo, CHAINS, type ChainInfo } from './chains';
import {
  authState,
  bodyObject,
  optionalRequirementsFor,
  stillAnswering,
  type Answer,
  type EmulatorContext,
} from './context';
import { ApiError, badRequest, fromGateError, loginRefused } from './errors';
import {
  evmSignatureVerifier,
  formatSimpleMessage,
  MAX_SIGNATURE_BYTES,
  parseSiweMessage,
  SiweError,
  verifyLogin,
  type DomainPolicy,
  type EvmSignatureVerifier,
} from './siwe';
import { isSolanaAddress, verifySolanaSignature } from './solana';
import { MAX_NONCES_PER_WALLET, MAX_TTL_MS, type StoreRecord } from './store/store';
import { walletCrypto } from './viem';

export type MessageFormat = 'siwe' | 'simple';

export interface LoginSettings {
  /** The message format `/auth/nonce` announces. */
  format: MessageFormat;
  /** The statement the wallet signs (EIP-4361-valid, checked at startup). */
  statement: string;
  /** Which SIWE `domain`s may log in (`domainPolicy(login.domains)`). */
  domains: DomainPolicy;
  /** How long a nonce stays good, and how old a SIWE message's `issuedAt` may be. */
  nonceTtlMs: number;
}

/** Contract-wallet signatures: a verifier with the RPC URLs of `chains`, and the chain ids it can ask. */
export interface ContractWallets {
  verifier: EvmSignatureVerifier;
  chainIds: ReadonlySet<number>;
}

/**
 * How long the store keeps a nonce past its lifetime: a login signed for it in that time is
 * refused as `nonce_expired` rather than as a signature that matches no nonce.
 */
const EXPIRED_KEPT_MS = 600_000;
/** EOA recovery and Ed25519 only: the first pass over the candidates, offline. */
const OFFLINE = evmSignatureVerifier();
const BASE58_SIGNATURE = /^[1-9A-HJ-NP-Za-km-z]{64,88}$/;

/** What the store keeps with a nonce: what the login must be checked against. */
interface NonceRecord {
  chain: string;
  format: MessageFormat;
  statement: string;
  issuedAtMs: number;
  expiresAtMs: number;
}

interface Candidate {
  nonce: string;
  record: NonceRecord;
}

function nonceRecord(record: StoreRecord): NonceRecord | undefined {
  const { chain, format, statement, issuedAtMs, expiresAtMs } = record;
  if (
    typeof chain !== 'string' ||
    (format !== 'siwe' && format !== 'simple') ||
    typeof statement !== 'string' ||
    typeof issuedAtMs !== 'number' ||
    typeof expiresAtMs !== 'number'
  )
    return undefined;
  return { chain, format, statement, issuedAtMs, expiresAtMs };
}

/** The chain of a login request: one the issuer knows (default `ethereum`). */
function loginChain(value: unknown): ChainInfo {
  const slug = value ?? 'ethereum';
  const info = typeof slug === 'string' ? chainInfo(slug) : undefined;
  if (!info) {
    throw badRequest(
      'chain_not_supported',
      'Wallets log in on ethereum, polygon, optimism, arbitrum or solana (GET /chains)',
    );
  }
  return info;
}

function loginWallet(chain: ChainInfo, value: unknown): string {
  if (chain.chainType === 'solana') {
    if (typeof value !== 'string' || !isSolanaAddress(value))
      throw badRequest('request_invalid', 'walletAddress must be a base58 Solana public key');
    return value;
  }
  if (typeof value !== 'string' || !isEvmAddress(value))
    throw badRequest('request_invalid', 'walletAddress must be a 0x address');
  return value;
}

/** The store's key of a wallet's nonces: its chain and normalised address. */
function walletKey(chain: ChainInfo, walletAddress: string): string {
  return `${chain.chainSlug}:${addressKey(chain.chainSlug, walletAddress)}`;
}

/** A signature's shape, checked before the store is asked: hex on EVM chains, base58 on Solana. */
function checkSignature(chain: ChainInfo, signature: unknown): void {
  const ok =
    chain.chainType === 'solana'
      ? typeof signature === 'string' && BASE58_SIGNATURE.test(signature)
      : typeof signature === 'string' &&
        /^0x(?:[0-9a-fA-F]{2})+$/.test(signature) &&
        signature.length <= 2 + 2 * MAX_SIGNATURE_BYTES;
  if (!ok) {
    throw badRequest(
      'signature_malformed',
      chain.chainType === 'solana'
        ? 'signature must be a base58 Ed25519 signature (64 bytes)'
        : `signature must be 0x followed by an even number of hex digits, at most ${MAX_SIGNATURE_BYTES} bytes`,
    );
  }
}

/** A `SiweError` as the issuer answers it: 400, 401, 403 or 503, its reason as `code`. */
function answerFor(error: SiweError): ApiError {
  if (error.kind === 'refused') return loginRefused(error.reason, error.message);
  if (error.kind === 'forbidden') return new ApiError(403, error.reason, error.message, { error: 'access_denied' });
  if (error.kind === 'unavailable')
    return new ApiError(503, error.reason, error.message, { headers: { 'Retry-After': '1' } });
  return badRequest(error.reason, error.message);
}

export async function nonce(context: EmulatorContext, input: unknown): Promise<Answer> {
  const body = bodyObject(input);
  const chain = loginChain(body.chain);
  const walletAddress = loginWallet(chain, body.walletAddress);
  const { format, statement, nonceTtlMs } = context.login;
  const value = randomBytes(16).toString('hex');
  const issuedAtMs = Date.now();
  const record: NonceRecord = {
    chain: chain.chainSlug,
    format,
    statement,
    issuedAtMs,
    expiresAtMs: issuedAtMs + nonceTtlMs,
  };
  const kept = Math.min(MAX_TTL_MS, Math.max(1, nonceTtlMs + EXPIRED_KEPT_MS));
  await context.store.issueNonce(walletKey(chain, walletAddress), value, { ...record }, kept);
  return { status: 200, body: { nonce: value, statement, format } };
}

/**
 * What a login request names, in either shape it may take:
 * - picket's `{ chain?, walletAddress, signature, context? }`: the issuer rebuilds the message;
 * - a standard SIWE client's `{ message, signature }` (the `siwe` package, viem's
 *   `createSiweMessage`): the whole EIP-4361 text, read with the same grammar; its Chain ID picks
 *   the chain, its Address the wallet, its Nonce the one nonce that may be taken.
 * A body mixing both shapes is a 400: which of its fields was signed would be ambiguous.
 */
interface LoginRequest {
  chain: ChainInfo;
  walletAddress: string;
  /** The nonce the client says it signed. */
  named: string | undefined;
  /** The signed text, in the `{ message, signature }` shape. */
  message?: string;
}

const PICKET_FIELDS = ['walletAddress', 'context', 'chain'] as const;

function loginRequest(body: Record<string, unknown>): LoginRequest {
  if (body.message === undefined) {
    const chain = loginChain(body.chain);
    return { chain, walletAddress: loginWallet(chain, body.walletAddress), named: namedNonce(body.context) };
  }
  const mixed = PICKET_FIELDS.filter((field) => body[field] !== undefined);
  if (mixed.length > 0) {
    throw badRequest(
      'request_invalid',
      `Send either { message, signature } (a whole EIP-4361 message) or { walletAddress, signature, context }, not both: remove ${mixed.join(', ')}`,
    );
  }
  let parsed;
  try {
    parsed = parseSiweMessage(body.message);
  } catch (error) {
    throw error instanceof SiweError ? answerFor(error) : error;
  }
  const chain = CHAINS.find((c) => c.chainType === 'ethereum' && c.chainId === parsed.chainId);
  if (!chain) {
    throw badRequest(
      'chain_not_supported',
      `The message's Chain ID ${parsed.chainId} is none of the chains this issuer serves (GET /chains)`,
    );
  }
  return { chain, walletAddress: parsed.address, named: parsed.nonce, message: body.message as string };
}

export async function auth(context: EmulatorContext, input: unknown): Promise<Answer> {
  const body = bodyObject(input);
  const login = loginRequest(body);
  const { chain, walletAddress, named } = login;
  checkSignature(chain, body.signature);
  // Requirements are read before any nonce is looked at: a typo in them costs no signature.
  const requirement = optionalRequirementsFor(body.requirements, chain.chainSlug);
  if (chain.chainType === 'ethereum') await walletCrypto();

  const key = walletKey(chain, walletAddress);
  const now = Date.now();
  const pending: Candidate[] = [];
  for (const entry of (await context.store.pendingNonces(key)).slice(0, MAX_NONCES_PER_WALLET)) {
    const record = nonceRecord(entry.record);
    if (record && record.chain === chain.chainSlug && (named === undefined || entry.nonce === named))
      pending.push({ nonce: entry.nonce, record });
  }
  if (pending.length === 0) {
    throw loginRefused(
      'nonce_invalid',
      named === undefined
        ? 'No nonce is pending for this wallet (never asked for, or already used): ask /auth/nonce'
        : login.message !== undefined
          ? "The message's Nonce is not pending for this wallet (never issued, or already used): ask /auth/nonce"
          : 'context.nonce is not pending for this wallet (never issued, or already used): ask /auth/nonce',
    );
  }
  // Live nonces first (newest first, as the store lists them), then those past their lifetime.
  const candidates = [
    ...pending.filter((c) => c.record.expiresAtMs > now),
    ...pending.filter((c) => c.record.expiresAtMs <= now),
  ];
  let signed: Candidate;
  try {
    signed = await findSigned(context, login, body, candidates, now);
  } catch (error) {
    throw error instanceof SiweError ? answerFor(error) : error;
  }
  // The name is asked for while the nonce is taken and the holdings are proven; it is bounded by
  // its own deadline and never fails.
  const shown = context.names.displayAddress(chain.chainSlug, walletAddress);
  stillAnswering(context);
  const taken = await context.store.consumeNonce(key, signed.nonce);
  if (signed.record.expiresAtMs <= now)
    throw loginRefused('nonce_expired', 'The nonce this message holds has expired: ask /auth/nonce again');
  if (taken === undefined)
    throw loginRefused('nonce_invalid', 'The nonce this message holds has just been used by another login');

  let claims: Record<string, unknown> = { walletAddress, displayAddress: walletAddress, chain: chain.chainSlug };
  if (requirement) {
    const holder = { walletAddress, chain: chain.chainSlug };
    const upgrade = await withHoldings(
      context.ownership,
      context.ownershipTimeoutMs,
      holder,
      (held) => upgradeClaims(claims as AccessTokenClaims, requirement, held),
      context.request?.signal,
    );
    if ('refusal' in upgrade) throw fromGateError(upgrade.refusal);
    claims = upgrade.claims;
  }
  claims.displayAddress = await shown;
  stillAnswering(context);
  // The session outlives its tokens by a few seconds: a token signed a second later than the
  // session started still ends within it.
  const exp = Math.floor(Date.now() / 1000) + context.sessionSeconds;
  const sid = await context.sessions.start(exp + 5, { walletAddress, chain: chain.chainSlug });
  stillAnswering(context);
  const token = await context.signer.sign({ ...claims, sid }, { expiresIn: context.sessionSeconds });
  return { status: 200, body: authState(token) };
}

/** `context.nonce`, when the client names the nonce it signed. */
function namedNonce(context: unknown): string | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  const value = (context as Record<string, unknown>).nonce;
  return typeof value === 'string' ? value : undefined;
}

/**
 * The candidate whose message the signature verifies. Offline first, one candidate after the
 * other (EOA recovery, Ed25519); a refusal of a message field is the same for every nonce and is
 * thrown at once. Only when no candidate matched, and the issuer has an RPC URL for the chain, is
 * the chain asked (contract wallets), for all candidates at once: a slow or failing RPC costs one
 * deadline, and answers `signature_unverifiable`. A signature that matches no candidate throws
 * `signature_invalid`.
 */
async function findSigned(
  context: EmulatorContext,
  login: LoginRequest,
  body: Record<string, unknown>,
  candidates: readonly Candidate[],
  now: number,
): Promise<Candidate> {
  const { chain } = login;
  const attempt = (candidate: Candidate, verifier: EvmSignatureVerifier | undefined) =>
    verifyCandidate(context, login, body, candidate, now, verifier).then(() => candidate);
  const refusals: SiweError[] = [];
  const kept = (error: unknown): void => {
    if (!(error instanceof SiweError) || (error.reason !== 'signature_invalid' && error.kind !== 'unavailable'))
      throw error;
    refusals.push(error);
  };
  for (const candidate of candidates) {
    try {
      return await attempt(candidate, chain.chainType === 'solana' ? undefined : OFFLINE);
    } catch (error) {
      kept(error);
    }
  }
  if (chain.chainType === 'ethereum' && context.contractWallets.chainIds.has(chain.chainId)) {
    const { verifier } = context.contractWallets;
    const settled = await Promise.allSettled(candidates.map((candidate) => attempt(candidate, verifier)));
    const signed = settled.find((s) => s.status === 'fulfilled');
    if (signed) return signed.value;
    for (const outcome of settled) kept((outcome as PromiseRejectedResult).reason);
    const unavailable = refusals.find((e) => e.kind === 'unavailable');
    if (unavailable) throw unavailable;
  }
  const last = refusals[refusals.length - 1];
  throw new SiweError(
    'signature_invalid',
    `${last?.message ?? 'The signature is not valid'}; it matches none of the ${candidates.length} nonce(s) pending for this wallet (another key signed, or the nonce was already used)`,
    'signature',
    'refused',
  );
}

async function verifyCandidate(
  context: EmulatorContext,
  { chain, walletAddress, message }: LoginRequest,
  body: Record<string, unknown>,
  { nonce, record }: Candidate,
  now: number,
  verifier: EvmSignatureVerifier | undefined,
): Promise<void> {
  const solana = chain.chainType === 'solana';
  if (record.format === 'simple' && message !== undefined) {
    throw new SiweError(
      'message_invalid',
      'This issuer announces the simple format: send { walletAddress, signature }, not an EIP-4361 message',
      'message',
    );
  }
  if (record.format === 'simple') {
    const message = formatSimpleMessage({ statement: record.statement, address: walletAddress, nonce });
    if (solana) verifySolanaSignature({ message, address: walletAddress, signature: body.signature });
    else await verifier!.verify({ message, address: walletAddress, signature: body.signature, chainId: chain.chainId });
    return;
  }
  await verifyLogin(
    {
      account: solana ? 'solana' : 'ethereum',
      ...(message !== undefined ? { message } : { context: body.context }),
      signature: body.signature,
      issued: { address: walletAddress, nonce, statement: record.statement, chainId: chain.chainId },
    },
    {
      domains: context.login.domains,
      now,
      maxAgeMs: context.login.nonceTtlMs,
      ...(context.request?.origin !== undefined && { origin: context.request.origin }),
    },
    verifier,
  );
}
