/**
 * The `WWW-Authenticate` challenge of RFC 6750 §3.
 */
import type { ErrorCode } from './reasons';

/** The protection space named when the gate's options name none. */
export const DEFAULT_REALM = 'api';

/** RFC 6750 §3: quoted values are limited to %x20-21 / %x23-5B / %x5D-7E. */
function quoteSafe(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '').slice(0, 200);
}

/**
 * The challenge for a rejection: bare (`Bearer realm="…"`) when the request carried no
 * credentials, with `error` and `error_description` otherwise.
 */
export function bearerChallenge(realm: string, code: ErrorCode, description: string): string {
  if (code === 'unauthorized') return `Bearer realm="${quoteSafe(realm)}"`;
  return `Bearer realm="${quoteSafe(realm)}", error="${code}", error_description="${quoteSafe(description)}"`;
}
