/**
 * express-token-gate: verify wallet access tokens (ES256 JWTs) and gate Express/Connect routes
 * on token ownership, answering with RFC 6750 errors.
 */
export * from './api';
export { default } from './default-export';
