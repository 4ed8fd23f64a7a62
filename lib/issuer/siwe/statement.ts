/**
 * The statement an issuer asks wallets to sign. EIP-4361 allows one line of RFC 3986 reserved and
 * unreserved characters and spaces: no line breaks, no `%`, `"`, `<`, `>`, no letters outside
 * ASCII, no bidirectional controls such as U+202E (which can make a wallet show text reversed).
 */
import { OptionsError } from '../../errors';
import { isStatement, STATEMENT_CHAR } from './grammar';

/** Why `statement` is not an EIP-4361 statement, or undefined when it is one. */
export function statementProblem(statement: unknown): string | undefined {
  if (typeof statement !== 'string') return 'must be a string';
  if (statement === '') return 'must not be empty';
  if (/[\r\n]/.test(statement)) return 'must be one line (no line breaks)';
  if (!isStatement(statement)) {
    const bad = [...statement].find((c) => !STATEMENT_CHAR.test(c))!;
    const code = bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `holds U+${code}, which EIP-4361 does not allow (letters, digits, spaces and -._~:/?#[]@!$&'()*+,;= only)`;
  }
  return undefined;
}

/**
 * Checks a configured statement at startup; throws `OptionsError(option)` naming the first
 * character EIP-4361 refuses.
 *
 * @example assertStatement(options.statement, 'login.statement')
 */
export function assertStatement(statement: unknown, option = 'statement'): string {
  const problem = statementProblem(statement);
  if (problem) throw new OptionsError(option, problem);
  return statement as string;
}

/**
 * `Sign in with your wallet to <audience>`, made EIP-4361-valid for any audience: letters with
 * accents lose them (NFKD, combining marks dropped: `café` → `cafe`), every other character the
 * ABNF refuses is dropped, runs of spaces become one. An audience with nothing left gives
 * `Sign in with your wallet`.
 */
export function defaultStatement(audience: string): string {
  const ascii = audience
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/\s+/gu, ' ');
  const kept = [...ascii]
    .filter((c) => STATEMENT_CHAR.test(c))
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
  return kept === '' ? 'Sign in with your wallet' : `Sign in with your wallet to ${kept}`;
}
