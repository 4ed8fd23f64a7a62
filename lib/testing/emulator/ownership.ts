/**
 * `POST /chains/{chain}/wallets/{wallet}/tokenOwnership`: does the wallet hold what the body asks
 * (`contractAddress`, `tokenIds`, `minTokenBalance`; on Solana `tokenIds` are mint addresses), by
 * the balance table? Answers `{ allowed, walletAddress, tokenBalance }`, no token involved.
 */
import { addressProblem } from '../../chain/address';
import { Decimal } from '../../chain/decimal';
import type { AccessTokenClaims } from '../../token/claims';
import { upgradeClaims } from '../authz';
import { bodyObject, requirementsFor, type Answer, type EmulatorContext } from './context';
import { badRequest } from './errors';

const FIELDS = ['contractAddress', 'tokenIds', 'minTokenBalance', 'collection', 'creatorAddress'] as const;

export function tokenOwnership(context: EmulatorContext, input: unknown, chain: string, walletAddress: string): Answer {
  const problem = addressProblem(chain, walletAddress);
  if (problem) throw badRequest('request_invalid', `The wallet in the path ${problem}`);
  const body = bodyObject(input);
  const asked: Record<string, unknown> = { chain };
  for (const field of FIELDS) if (body[field] !== undefined && body[field] !== null) asked[field] = body[field];
  const requirement = requirementsFor(asked, chain);

  const { contractAddress, tokenIds, collection, creatorAddress } = requirement.description;
  const items = tokenIds
    ? tokenIds.map((id) => (contractAddress === undefined ? id : `${contractAddress}:${id}`))
    : [contractAddress, ...(collection ?? []), creatorAddress].filter((item): item is string => item !== undefined);
  let total = new Decimal(0);
  for (const item of items) total = total.plus(context.balances.get(walletAddress, item) ?? '0');

  // Whether that is enough is decided by the same rules /authz and the gate apply.
  const wallet = { walletAddress, displayAddress: walletAddress, chain } as AccessTokenClaims;
  const allowed = !('refusal' in upgradeClaims(wallet, requirement, context.balances));
  return { status: 200, body: { allowed, walletAddress, tokenBalance: total.toFixed() } };
}
