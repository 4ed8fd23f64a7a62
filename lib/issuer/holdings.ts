/**
 * What a wallet holds now, asked of the issuer's ownership resolver one item at a time, for the
 * proofs a login, `/authz` or `tokenOwnership` is about to sign or answer.
 *
 * The proofs ask synchronously (`Holdings`). So a proof runs twice: first to learn which items it
 * asks about, then, once the resolver has answered each (in parallel, within `timeoutMs`), with the
 * answers. The items asked do not depend on the answers, so the second run asks nothing new.
 */
import { addressKey } from '../chain/address';
import { Decimal, isDecimalString } from '../chain/decimal';
import type { RequirementsDescription } from '../errors';
import type { OwnershipResolver } from '../ownership/resolvers/types';
import { ApiError } from './errors';
import type { Holdings, Item } from './proofs';

export interface Holder {
  readonly walletAddress: string;
  readonly chain: string;
  readonly network?: string;
}

/** Items asked about at most in one proof: a requirement's lists are bounded, a token's proofs too. */
const MAX_ITEMS = 256;

/** The single-item requirement the resolver is asked about. */
function question(holder: Holder, item: Item): RequirementsDescription {
  const description: RequirementsDescription = { chain: holder.chain, minTokenBalance: '0' };
  if (holder.network !== undefined && holder.network !== 'mainnet') description.network = holder.network;
  if (item.kind === 'contractAddress') {
    description.contractAddress = item.address;
    if (item.id !== undefined) description.tokenIds = [item.id];
  } else if (item.kind === 'tokenIds') description.tokenIds = [item.address];
  else if (item.kind === 'collection') description.collection = [item.address];
  else description.creatorAddress = item.address;
  return Object.freeze(description);
}

/**
 * Runs `proof` on what `holder` holds now of every item it asks about. A resolver that fails, times
 * out or answers anything but a decimal balance ends the request with 503 `ownership_unavailable`:
 * a login or an upgrade never proves what could not be checked.
 */
export async function withHoldings<T>(
  resolver: OwnershipResolver,
  timeoutMs: number,
  holder: Holder,
  proof: (held: Holdings) => T,
  /** The request's own deadline: when it aborts first, the resolver is let go at once. */
  abandoned?: AbortSignal,
): Promise<T> {
  const keyOf = (item: Item) => `${item.kind}|${addressKey(holder.chain, item.address)}|${item.id ?? ''}`;
  const asked = new Map<string, Item>();
  proof((item) => {
    asked.set(keyOf(item), item);
    return undefined;
  });
  if (asked.size > MAX_ITEMS) {
    throw new ApiError(400, 'requirements_invalid', `The request names more than ${MAX_ITEMS} items to prove`);
  }
  let held: ReadonlyMap<string, string | undefined>;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const letGo = () => controller.abort(new Error('the request was answered for its deadline'));
  if (abandoned?.aborted) letGo();
  abandoned?.addEventListener('abort', letGo, { once: true });
  try {
    const answers = await Promise.all(
      [...asked].map(async ([key, item]) => {
        const answer = await Promise.race([
          resolver.resolve({
            chain: holder.chain,
            walletAddress: holder.walletAddress,
            requirements: question(holder, item),
            signal: controller.signal,
          }),
          new Promise<never>((_resolve, reject) =>
            controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
              once: true,
            }),
          ),
        ]);
        const balance = (answer as { balance?: unknown } | null)?.balance;
        if (!isDecimalString(balance)) throw new Error('the ownership resolver answered no decimal balance');
        return [key, new Decimal(balance).isGreaterThan(0) ? balance : undefined] as const;
      }),
    );
    held = new Map(answers);
  } catch {
    throw new ApiError(503, 'ownership_unavailable', "The wallet's holdings cannot be checked right now", {
      headers: { 'Retry-After': '1' },
      error: 'temporarily_unavailable',
    });
  } finally {
    clearTimeout(timer);
    abandoned?.removeEventListener('abort', letGo);
  }
  return proof((item) => held.get(keyOf(item)));
}
