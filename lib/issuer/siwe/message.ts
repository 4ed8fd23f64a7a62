/**
 * EIP-4361 messages: the fields (`SiweMessage`), checked one by one against the ABNF
 * (`checkSiweFields`), written (`formatSiweMessage`) and read back (`parseSiweMessage`). Reading
 * is strict: LF line breaks only, the fields in the ABNF's order, nothing before or after.
 */
import { invalid, missing, SiweError, type SiweField } from './errors';
import {
  isNonce,
  isRequestId,
  isScheme,
  isStatement,
  parseAuthority,
  parseDateTime,
  parseUri,
  type Authority,
} from './grammar';
import { addressProblem } from './address';

/** The fields of an EIP-4361 message. Times are kept as written: the signature covers the text. */
export interface SiweMessage {
  scheme?: string;
  domain: string;
  address: string;
  statement?: string;
  uri: string;
  version: '1';
  chainId: number;
  nonce: string;
  issuedAt: string;
  expirationTime?: string;
  notBefore?: string;
  requestId?: string;
  resources?: string[];
}

/** Whose account the message names: EIP-4361's `Ethereum`, or picket-js's Solana variant. */
export type AccountKind = 'ethereum' | 'solana';

export interface MessageOptions {
  /** `ethereum` (default): EIP-55 addresses. `solana`: base58 addresses, "Solana account". */
  account?: AccountKind;
}

/** Longest message read; a login message is a few hundred characters. */
export const MAX_MESSAGE_LENGTH = 16_384;
/** Most resources listed in one message. */
export const MAX_RESOURCES = 64;

const ACCOUNT_NAME: Record<AccountKind, string> = { ethereum: 'Ethereum', solana: 'Solana' };

function header(account: AccountKind): string {
  return ` wants you to sign in with your ${ACCOUNT_NAME[account]} account:`;
}

/** The domain's authority, with a host that is not empty; undefined if it is not one. */
export function parseDomain(domain: string): Authority | undefined {
  const authority = parseAuthority(domain);
  return authority && authority.host.text !== '' ? authority : undefined;
}

function text(input: Record<string, unknown>, field: SiweField, what: string, required: true): string;
function text(input: Record<string, unknown>, field: SiweField, what: string, required: false): string | undefined;
function text(input: Record<string, unknown>, field: SiweField, what: string, required: boolean): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) {
    if (required) throw missing(field, what);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(field, `${what} must be a string`);
  if (value.length > MAX_MESSAGE_LENGTH) throw invalid(field, `${what} is too long`);
  if (required && value === '') throw missing(field, what);
  return value;
}

function dateTime(input: Record<string, unknown>, field: SiweField, what: string, required: boolean) {
  const value = required ? text(input, field, what, true) : text(input, field, what, false);
  if (value !== undefined && parseDateTime(value) === undefined)
    throw invalid(field, `${what} must be an RFC 3339 date-time such as 2024-05-01T12:00:00Z, and a real one`);
  return value;
}

/**
 * Checks every field of a message against EIP-4361's ABNF, in message order, and returns the
 * message. The first field that breaks a rule throws a `SiweError` naming it.
 */
export function checkSiweFields(input: unknown, options: MessageOptions = {}): SiweMessage {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new SiweError('message_invalid', 'The message fields must be an object', 'message');
  const fields = input as Record<string, unknown>;
  const account = options.account ?? 'ethereum';

  const scheme = text(fields, 'scheme', 'scheme', false);
  if (scheme !== undefined && !isScheme(scheme))
    throw invalid('scheme', 'scheme must be an RFC 3986 scheme such as https');
  const domain = text(fields, 'domain', 'domain', true);
  if (!parseDomain(domain)) throw invalid('domain', 'domain must be an RFC 3986 authority (host[:port]) with a host');
  const address = text(fields, 'address', 'address', true);
  const problem = addressProblem(account, address);
  if (problem) throw problem;
  const statement = text(fields, 'statement', 'statement', false);
  if (statement !== undefined && !isStatement(statement))
    throw invalid(
      'statement',
      'statement must be one line of RFC 3986 reserved or unreserved characters and spaces (no line breaks, no other characters)',
    );
  const uri = text(fields, 'uri', 'uri', true);
  if (!parseUri(uri)) throw invalid('uri', 'uri must be an RFC 3986 URI');
  const version = fields.version === undefined ? undefined : fields.version;
  if (version === undefined || version === null) throw missing('version', 'version');
  if (version !== '1') throw invalid('version', 'version must be "1"');
  const chainId = fields.chainId;
  if (chainId === undefined || chainId === null) throw missing('chainId', 'chainId');
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 0)
    throw invalid('chainId', 'chainId must be a whole number, 0 or more');
  const nonce = text(fields, 'nonce', 'nonce', true);
  if (!isNonce(nonce)) throw invalid('nonce', 'nonce must be at least 8 letters or digits');
  const issuedAt = dateTime(fields, 'issuedAt', 'issuedAt', true)!;
  const expirationTime = dateTime(fields, 'expirationTime', 'expirationTime', false);
  const notBefore = dateTime(fields, 'notBefore', 'notBefore', false);
  const requestId = text(fields, 'requestId', 'requestId', false);
  if (requestId !== undefined && !isRequestId(requestId))
    throw invalid('requestId', 'requestId must be RFC 3986 pchar characters only');
  let resources: string[] | undefined;
  if (fields.resources !== undefined && fields.resources !== null) {
    if (!Array.isArray(fields.resources)) throw invalid('resources', 'resources must be a list of URIs');
    if (fields.resources.length > MAX_RESOURCES)
      throw invalid('resources', `resources may list at most ${MAX_RESOURCES} URIs`);
    resources = fields.resources.map((resource: unknown, i) => {
      if (typeof resource !== 'string' || resource.length > MAX_MESSAGE_LENGTH || !parseUri(resource))
        throw invalid('resources', `resources[${i}] must be an RFC 3986 URI`);
      return resource;
    });
  }
  return {
    ...(scheme !== undefined && { scheme }),
    domain,
    address,
    ...(statement !== undefined && { statement }),
    uri,
    version: '1',
    chainId,
    nonce,
    issuedAt,
    ...(expirationTime !== undefined && { expirationTime }),
    ...(notBefore !== undefined && { notBefore }),
    ...(requestId !== undefined && { requestId }),
    ...(resources !== undefined && { resources }),
  };
}

/**
 * The EIP-4361 text of a message, after `checkSiweFields`. With `account: 'solana'` the header
 * says "Solana account"; picket-js's whole-text rewrite is `formatSolanaMessage` (`../solana`).
 */
export function formatSiweMessage(input: SiweMessage, options: MessageOptions = {}): string {
  const message = checkSiweFields(input, options);
  const account = options.account ?? 'ethereum';
  const lines = [
    `${message.scheme === undefined ? '' : `${message.scheme}://`}${message.domain}${header(account)}`,
    message.address,
    '',
    ...(message.statement === undefined ? [] : [message.statement]),
    '',
    `URI: ${message.uri}`,
    `Version: ${message.version}`,
    `Chain ID: ${message.chainId}`,
    `Nonce: ${message.nonce}`,
    `Issued At: ${message.issuedAt}`,
  ];
  if (message.expirationTime !== undefined) lines.push(`Expiration Time: ${message.expirationTime}`);
  if (message.notBefore !== undefined) lines.push(`Not Before: ${message.notBefore}`);
  if (message.requestId !== undefined) lines.push(`Request ID: ${message.requestId}`);
  if (message.resources !== undefined) lines.push('Resources:', ...message.resources.map((r) => `- ${r}`));
  return lines.join('\n');
}

const REQUIRED_TAGS = [
  ['uri', 'URI: '],
  ['version', 'Version: '],
  ['chainId', 'Chain ID: '],
  ['nonce', 'Nonce: '],
  ['issuedAt', 'Issued At: '],
] as const;
const OPTIONAL_TAGS = [
  ['expirationTime', 'Expiration Time: '],
  ['notBefore', 'Not Before: '],
  ['requestId', 'Request ID: '],
] as const;
const ALL_TAGS = [...REQUIRED_TAGS, ...OPTIONAL_TAGS, ['resources', 'Resources:']] as const;

function malformed(message: string): SiweError {
  return new SiweError('message_invalid', message, 'message');
}

/** A tagged line found where another was expected: out of order, or the expected one is missing. */
function misplaced(field: SiweField, what: string, lines: readonly string[]): SiweError {
  const tag = ALL_TAGS.find(([name]) => name === field)![1];
  if (lines.some((line) => line.startsWith(tag)))
    return malformed(`"${tag.trim()}" is out of order: EIP-4361 fixes the order of the fields`);
  return missing(field, what);
}

/**
 * Reads an EIP-4361 message; throws a `SiweError` naming the first field that breaks the ABNF.
 *
 * @example parseSiweMessage(text).nonce
 */
export function parseSiweMessage(input: unknown, options: MessageOptions = {}): SiweMessage {
  if (typeof input !== 'string') throw new SiweError('message_missing', 'message must be a string', 'message');
  if (input.length > MAX_MESSAGE_LENGTH) throw malformed(`message is longer than ${MAX_MESSAGE_LENGTH} characters`);
  if (input.includes('\r')) throw malformed('message lines must end in LF, not CR LF');
  const account = options.account ?? 'ethereum';
  const lines = input.split('\n');
  const fields: Record<string, unknown> = { version: undefined };

  const first = lines[0]!;
  const suffix = header(account);
  if (!first.endsWith(suffix)) throw malformed(`the first line must be "[scheme://]domain${suffix}"`);
  const origin = first.slice(0, -suffix.length);
  const separator = origin.indexOf('://');
  if (separator !== -1) {
    fields.scheme = origin.slice(0, separator);
    fields.domain = origin.slice(separator + 3);
  } else fields.domain = origin;
  fields.address = lines[1] ?? '';
  if (lines[2] !== '') throw malformed('the address must be followed by an empty line');

  let at = 3;
  if (lines[3] !== '' && lines[3] !== undefined && !lines[3].startsWith('URI: ')) {
    fields.statement = lines[3];
    if (lines[4] !== '') throw new SiweError('statement_invalid', 'statement must be one line', 'statement');
    at = 5;
  } else if (lines[3] === '' && lines[4] === '' && lines[5]?.startsWith('URI: ')) {
    // `[ statement LF ]` with an empty statement: four line breaks after the address.
    fields.statement = '';
    at = 5;
  } else if (lines[3] === '') at = 4;
  else throw malformed('the address must be followed by an empty line, the statement and another empty line');

  for (const [field, tag] of REQUIRED_TAGS) {
    const line = lines[at];
    if (line === undefined || !line.startsWith(tag)) throw misplaced(field, field, lines.slice(at));
    fields[field] = line.slice(tag.length);
    at += 1;
  }
  const chainId = fields.chainId as string;
  // 1*DIGIT, without leading zeros so that the number writes back as the same text.
  fields.chainId = /^(?:0|[1-9][0-9]{0,15})$/.test(chainId) ? Number(chainId) : chainId;

  let nextOptional = 0;
  while (at < lines.length) {
    const line = lines[at]!;
    const index = OPTIONAL_TAGS.findIndex(([, tag]) => line.startsWith(tag));
    if (index >= nextOptional) {
      const [field, tag] = OPTIONAL_TAGS[index]!;
      fields[field] = line.slice(tag.length);
      nextOptional = index + 1;
      at += 1;
      continue;
    }
    if (line === 'Resources:') {
      const resources: string[] = [];
      for (at += 1; at < lines.length; at += 1) {
        const item = lines[at]!;
        if (!item.startsWith('- ')) {
          if (ALL_TAGS.some(([, tag]) => item.startsWith(tag)))
            throw malformed(`"${item.split(':')[0]}" is out of order: Resources come last`);
          throw new SiweError('resources_invalid', 'each resource must be a line "- <URI>"', 'resources');
        }
        resources.push(item.slice(2));
      }
      fields.resources = resources;
      break;
    }
    if (index !== -1 || ALL_TAGS.some(([, tag]) => line.startsWith(tag)))
      throw malformed(`"${line.split(':')[0]}" is out of order or repeated: EIP-4361 fixes the order of the fields`);
    if (line === '') throw malformed('the message must not end with a line break or hold empty lines');
    throw malformed('the message holds a line EIP-4361 does not define');
  }
  return checkSiweFields(fields, options);
}

/** picket-js's `simple` format, for either chain: `<statement>\n\nAddress: <wallet>\nNonce: <nonce>`. */
export function formatSimpleMessage({
  statement,
  address,
  nonce,
}: {
  statement: string;
  address: string;
  nonce: string;
}): string {
  return `${statement}\n\nAddress: ${address}\nNonce: ${nonce}`;
}
