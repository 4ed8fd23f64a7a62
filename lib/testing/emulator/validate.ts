/**
 * `POST /auth/validate`: `{ accessToken, requirements? }` → the token's payload when the issuer
 * signed it, it is in time, and it proves the requirements (picket-js calls this on every page
 * load to restore a session).
 */
import { decodeJwt } from 'jose';
import { bodyObject, requirementsFor, verifyToken, type Answer, type EmulatorContext } from './context';
import { fromGateError } from './errors';

export async function validate(context: EmulatorContext, input: unknown): Promise<Answer> {
  const { accessToken, requirements } = bodyObject(input);
  const claims = await verifyToken(context, accessToken);
  if (requirements !== undefined && requirements !== null) {
    try {
      requirementsFor(requirements, claims.chain).check(claims);
    } catch (error) {
      throw fromGateError(error);
    }
  }
  return { status: 200, body: decodeJwt(accessToken as string) };
}
