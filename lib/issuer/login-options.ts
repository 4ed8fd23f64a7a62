/** The `login` option of `createIssuer`: message format, statement, domains, nonce lifetime. */
import { OptionsError, rejectUnknownKeys } from '../errors';
import { isLoopbackHost } from './cors';
import type { LoginSettings, MessageFormat } from './login';

export interface LoginOptions {
  /** The message format `/auth/nonce` announces: `'siwe'` (EIP-4361, default) or `'simple'`. */
  format?: MessageFormat;
  /** The statement wallets sign. Default `Sign in with your wallet to <audience>`. */
  statement?: string;
  /** Hosts (`host[:port]`) SIWE messages may name. Default: any loopback host (localhost, 127.0.0.1, [::1], *.localhost). */
  domains?: string[];
  /** Seconds a nonce (and a SIWE message's issuedAt) stays good. Default 600. */
  nonceTtlSeconds?: number;
}

const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:]+\])(?::[0-9]{1,5})?$/i;

/** Validates `login`; throws an `OptionsError` naming the field. */
export function loginSettings(audience: string, options: LoginOptions = {}): LoginSettings {
  if (typeof options !== 'object' || options === null) throw new OptionsError('login', 'must be an object');
  rejectUnknownKeys(options, ['format', 'statement', 'domains', 'nonceTtlSeconds'], 'login');
  const {
    format = 'siwe',
    statement = `Sign in with your wallet to ${audience}`,
    domains,
    nonceTtlSeconds = 600,
  } = options;
  if (format !== 'siwe' && format !== 'simple') throw new OptionsError('login.format', "must be 'siwe' or 'simple'");
  if (typeof statement !== 'string' || statement === '' || /[\r\n]/.test(statement)) {
    throw new OptionsError('login.statement', 'must be one line of text');
  }
  if (typeof nonceTtlSeconds !== 'number' || !Number.isFinite(nonceTtlSeconds) || nonceTtlSeconds < 0) {
    throw new OptionsError('login.nonceTtlSeconds', 'must be a number of seconds, 0 or more');
  }
  if (
    domains !== undefined &&
    (!Array.isArray(domains) || !domains.every((d) => typeof d === 'string' && HOST.test(d)))
  ) {
    throw new OptionsError('login.domains', "must be a list of hosts such as 'app.example' or 'localhost:5173'");
  }
  const allowed = domains && new Set(domains.map((d) => d.toLowerCase()));
  return {
    format,
    statement,
    nonceTtlMs: nonceTtlSeconds * 1000,
    allowsDomain(domain) {
      if (allowed) return allowed.has(domain.toLowerCase());
      if (!HOST.test(domain)) return false;
      return isLoopbackHost(domain.replace(/:[0-9]+$/, '').toLowerCase());
    },
  };
}
