/**
 * `POST /authz` (incremental authorization): `{ accessToken, requirements, revalidate? }` →
 * `{ accessToken, user }`. A token that already proves the requirement is answered as it is,
 * unless `revalidate` asks the issuer to look at the balances again; otherwise the balance table
 * decides and the answer is a new token proving the requirement too. Requirements `{}` (picket-js's
 * `isCurrentUserAuthorized` without any) ask for nothing new. With `revalidate`, every proof the
 * old token carries is taken again from the table: what the wallet sold is no longer proven.
 * A new token's `displayAddress` is the wallet's ENS name as it is now (see `./ens`), when the
 * issuer looks names up.
 */
import { decodeJwt } from 'jose';
import { InsufficientScopeError } from '../errors';
import { reproveClaims, upgradeClaims } from './proofs';
import { withHoldings } from './holdings';
import {
  authState,
  bodyObject,
  optionalRequirementsFor,
  stillAnswering,
  verifyToken,
  type Answer,
  type EmulatorContext,
} from './context';
import { badRequest, fromGateError } from './errors';

export async function authz(context: EmulatorContext, input: unknown): Promise<Answer> {
  const { accessToken, requirements, revalidate = false } = bodyObject(input);
  const claims = await verifyToken(context, accessToken);
  await context.sessions.ensureLive(claims);
  // Both clients always send the field (picket-js refuses to call without it): its absence is a mistake.
  if (requirements === undefined || requirements === null)
    throw badRequest('requirements_invalid', 'requirements is required: {} when nothing new is to be proven');
  const requirement = optionalRequirementsFor(requirements, claims.chain);
  if (typeof revalidate !== 'boolean') throw badRequest('request_invalid', 'revalidate must be true or false');

  if (!revalidate) {
    try {
      requirement?.check(claims);
      return { status: 200, body: answer(accessToken as string) };
    } catch (error) {
      if (!(error instanceof InsufficientScopeError)) throw error;
    }
  }
  // A new token shows the wallet's name as ENS gives it now (cached, bounded): the same rule as a login's.
  const shown = context.names.looksUp(claims.chain)
    ? context.names.displayAddress(claims.chain, claims.walletAddress)
    : undefined;
  const upgrade = await withHoldings(
    context.ownership,
    context.ownershipTimeoutMs,
    claims,
    (held) => {
      const current = revalidate ? reproveClaims(claims, held) : claims;
      return requirement ? upgradeClaims(current, requirement, held) : { claims: current };
    },
    context.request?.signal,
  );
  if ('refusal' in upgrade) throw fromGateError(upgrade.refusal);
  const upgraded: Record<string, unknown> = { ...upgrade.claims };
  if (shown) upgraded.displayAddress = await shown;
  stillAnswering(context);
  return { status: 200, body: answer(await context.signer.reissue(upgraded)) };
}

/** `AuthState`, plus the decoded claims the kit has always returned. */
function answer(accessToken: string) {
  return { ...authState(accessToken), decodedAccessToken: decodeJwt(accessToken) };
}
