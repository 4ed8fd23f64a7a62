/**
 * `POST /auth/validate`: `{ accessToken, requirements? }` → the token's payload when the issuer
 * signed it, it is in time, and it proves the requirements (none when absent or `{}`) (picket-js calls this on every page
 * load to restore a session).
 */
import { decodeJwt } from 'jose';
import { bodyObject, optionalRequirementsFor, verifyToken, type Answer, type EmulatorContext } from './context';
import { fromGateError } from './errors';

export async function validate(context: EmulatorContext, input: unknown): Promise<Answer> {
  const { accessToken, requirements } = bodyObject(input);
  const claims = await verifyToken(context, accessToken);
  await context.sessions.ensureLive(claims);
  const requirement = optionalRequirementsFor(requirements, claims.chain);
  if (requirement) {
    try {
      requirement.check(claims);
    } catch (error) {
      throw fromGateError(error);
    }
  }
  return { status: 200, body: decodeJwt(accessToken as string) };
}
