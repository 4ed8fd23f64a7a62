/**
 * `POST /auth/logout`: `{ accessToken }` (or `Authorization: Bearer`) → 204. Ends the token's
 * session: `/authz` and `/auth/validate` refuse every token of it from then on, on every instance
 * sharing the store, and with a revocation list every gate using the list refuses them too. A
 * token that no longer verifies (expired, another issuer's) is answered like any bad token: 401.
 */
import { bodyObject, verifyToken, type Answer, type EmulatorContext } from './context';

export async function logout(context: EmulatorContext, input: unknown): Promise<Answer> {
  const { accessToken } = bodyObject(input);
  const claims = await verifyToken(context, accessToken);
  await context.sessions.end(claims);
  return { status: 204, body: undefined };
}
