/**
 * `express-token-gate/testing`: a real issuer for tests and frontend development. It holds fresh
 * ES256 keys, publishes them as a JWKS on 127.0.0.1, signs Picket-shaped access tokens and serves
 * the issuer's API (wallet login, `/authz`, `/auth/validate`, token ownership) from a balance
 * table the test controls.
 *
 * @example
 * const issuer = await createTestIssuer({ audience: 'test-project' });
 * const app = createApp(issuer.options);                 // createTokenGate(issuer.options) inside
 * const token = await issuer.sign({ walletAddress: '0x…' });
 * await issuer.close();
 */
export { createTestIssuer } from './issuer';
export type { TestIssuer, TestIssuerOptions } from './issuer';
export type { LoginOptions } from '../issuer/login-options';
export { TEST_WALLET, TEST_SOLANA_WALLET } from '../issuer/signer';
export type { SignOptions, TestClaims, TokenProfile } from '../issuer/signer';
export { AuthzError } from './client';
export type { CorsOptions } from '../issuer/cors';
export type { MessageFormat } from '../issuer/login';
