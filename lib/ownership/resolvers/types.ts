/**
 * The `OwnershipResolver` port: how a gate asks for a wallet's *current* holdings instead of
 * trusting the balances an access token proved when it was signed. Adapters (`evm`, `picket`, or
 * your own) live in their own files; the gate knows only this interface.
 */
import type { RequirementsDescription } from '../../errors';

/** One question: what does `walletAddress` hold, right now, of what `requirements` lists? */
export interface OwnershipQuery {
  /** The chain of the requirement (and of the wallet), e.g. `ethereum`. */
  readonly chain: string;
  /** The wallet, as the verified token names it. */
  readonly walletAddress: string;
  /**
   * The compiled requirement, exactly as a 403 would hand it to the client: `contractAddress`,
   * `tokenIds`, `collection`, `creatorAddress`, `minTokenBalance` (decimal string), … Frozen.
   * `network` is set when it is not `mainnet`: answer for that network, or throw.
   */
  readonly requirements: RequirementsDescription;
  /** Aborted when the gate stops waiting (`revalidate.timeoutMs`); pass it on to your I/O. */
  readonly signal: AbortSignal;
}

/** The answer: the wallet's current balance of everything the requirement lists, summed. */
export interface OwnershipAnswer {
  /**
   * A plain non-negative decimal string in whole tokens (`"3"`, `"1.5"`): ERC-20 amounts already
   * divided by `10 ** decimals`. The gate applies the requirement's `minTokenBalance` to it with the
   * same rule as to a token's balances (unset or 0: above 0; otherwise at least the minimum).
   */
  balance: string;
  /** The service's own verdict, when it gives one: `false` refuses even a sufficient balance. */
  allowed?: boolean;
}

/**
 * Answers ownership questions for `revalidate`. Throw (or reject) when the answer cannot be known:
 * the gate then applies `onResolverError`. Answers are cached by the gate, per chain, wallet and
 * requirement, for `maxAgeMs`; concurrent questions for one key share one call.
 *
 * @example
 * const resolver: OwnershipResolver = {
 *   async resolve({ walletAddress, requirements, signal }) {
 *     const res = await fetch(`https://my-indexer/balances/${walletAddress}/${requirements.contractAddress}`, { signal });
 *     if (!res.ok) throw new Error(`indexer answered ${res.status}`);
 *     return { balance: String((await res.json()).balance) };
 *   },
 * };
 */
export interface OwnershipResolver {
  /** A short name, reported on the `express-token-gate:ownership` diagnostics channel. Default `custom`. */
  readonly name?: string;
  resolve(query: OwnershipQuery): Promise<OwnershipAnswer>;
}

/** A requirement the resolver cannot answer (another chain, a field it does not look up). */
export class UnsupportedRequirementError extends Error {
  override name = 'UnsupportedRequirementError';
}

/** The remote service failed or answered something unusable. `cause` keeps the original error. */
export class ResolverError extends Error {
  override name = 'ResolverError';
}
