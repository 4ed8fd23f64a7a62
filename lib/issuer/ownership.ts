/**
 * `POST /chains/{chain}/wallets/{wallet}/tokenOwnership`: does the wallet hold what the body asks
 * (`contractAddress`, `tokenIds`, `minTokenBalance`; on Solana `tokenIds` are mint addresses), by
 * the issuer's ownership resolver? Answers `{ allowed, walletAddress, tokenBalance }`, no token involved.
 */
import { addressProblem } from '../chain/address';
import { Decimal } from '../chain/decimal';
import type { Item } from './proofs';
import { withHoldings } from './holdings';
import { bodyObject, requirementsFor, type Answer, type EmulatorContext } from './context';
import { badRequest } from './errors';

const FIELDS = ['contractAddress', 'tokenIds', 'minTokenBalance', 'collection', 'creatorAddress'] as const;

export async function tokenOwnership(
  context: EmulatorContext,
  input: unknown,
  chain: string,
  walletAddress: string,
): Promise<Answer> {
  const problem = addressProblem(chain, walletAddress);
  if (problem) throw badRequest('request_invalid', `The wallet in the path ${problem}`);
  const body = bodyObject(input);
  const asked: Record<string, unknown> = { chain };
  for (const field of FIELDS) if (body[field] !== undefined && body[field] !== null) asked[field] = body[field];
  const requirement = requirementsFor(asked, chain);

  // The resolver sums what the requirement lists; whether that is enough is the gate's own rule.
  const total = await withHoldings(context.ownership, context.ownershipTimeoutMs, { walletAddress, chain }, (held) => {
    const { contractAddress, tokenIds, collection, creatorAddress } = requirement.description;
    const items: Item[] = tokenIds
      ? tokenIds.map((id) =>
          contractAddress === undefined
            ? { kind: 'tokenIds', address: id }
            : { kind: 'contractAddress', address: contractAddress, id },
        )
      : [
          ...(contractAddress === undefined ? [] : [{ kind: 'contractAddress', address: contractAddress } as const]),
          ...(collection ?? []).map((c) => ({ kind: 'collection', address: c }) as const),
          ...(creatorAddress === undefined ? [] : [{ kind: 'creatorAddress', address: creatorAddress } as const]),
        ];
    return items.reduce((sum, item) => sum.plus(held(item) ?? '0'), new Decimal(0));
  });
  const allowed = requirement.isEnough(total);
  return { status: 200, body: { allowed, walletAddress, tokenBalance: total.toFixed() } };
}
