/**
 * A token the verified-token cache holds is looked up before the Authorization line's syntax is
 * read (the hot path). The line must still be read by the same rules: every shape below gets the
 * same answer whether its token is cached, not yet cached, or the gate has no cache at all, and
 * whatever other place a token may come from (getToken, the query).
 */
import { channel } from 'node:diagnostics_channel';
import { createTokenGate, type TokenGate } from '../../lib';
import { appWith, useTestIssuer } from '../helpers/harness';
import { rawGet } from '../helpers/net';

const env = useTestIssuer();
let token: string;
beforeAll(async () => {
  token = await env.issuer.sign();
});

type Outcome = [status: number, reason: string | undefined];
const OK: Outcome = [200, undefined];
const MALFORMED: Outcome = [400, 'header_malformed'];
const MISSING: Outcome = [401, 'token_missing'];

/** Header lines built around the token, and the answer RFC 6750 §2.1 and the README give them. */
const SHAPES: [name: string, lines: (t: string) => string[], outcome: Outcome][] = [
  ['Bearer <token>', (t) => [`Bearer ${t}`], OK],
  ['bearer <token>', (t) => [`bearer ${t}`], OK],
  ['BEARER <token>', (t) => [`BEARER ${t}`], OK],
  ['two spaces after the scheme', (t) => [`Bearer  ${t}`], OK],
  ['a trailing space', (t) => [`Bearer ${t} `], OK],
  ['a tab after the scheme', (t) => [`Bearer\t${t}`], MALFORMED],
  ['a character outside b64token after the token', (t) => [`Bearer ${t}$`], MALFORMED],
  ['a second token after a space', (t) => [`Bearer ${t} ${t}`], MALFORMED],
  ['a comma and a second credential in one line', (t) => [`Bearer ${t}, Bearer ${t}`], MALFORMED],
  ['the token twice, in two lines', (t) => [`Bearer ${t}`, `Bearer ${t}`], [400, 'header_duplicated']],
  ['the scheme run into the token (one longer scheme)', (t) => [`Bearer${t}`], MISSING],
  ['another scheme with the token', (t) => [`Basic ${t}`], MISSING],
  ['a scheme that only starts with Bearer', (t) => [`Bearerx ${t}`], MISSING],
  ['a look-alike scheme (Latin-1 é)', (t) => [`B\u00e9arer ${t}`], MALFORMED],
];

async function answer(gate: TokenGate, lines: string[], path = '/r'): Promise<Outcome> {
  const res = await rawGet(
    appWith(gate.requireAuth()),
    path,
    lines.map((line) => ['Authorization', line]),
  );
  return [res.status, res.status === 200 ? undefined : JSON.parse(res.body).reason];
}

describe('a cached token is read from the header by the same rules as a new one', () => {
  test.each(SHAPES)('%s', async (_name, lines, outcome) => {
    const cached = createTokenGate(env.issuer.options);
    const uncached = createTokenGate({ ...env.issuer.options, cache: false });
    // Before the token is cached, after (the plain line put it there), and with no cache.
    expect(await answer(cached, lines(token))).toEqual(outcome);
    expect(await answer(cached, [`Bearer ${token}`])).toEqual(OK);
    expect(await answer(cached, lines(token))).toEqual(outcome);
    expect(await answer(uncached, lines(token))).toEqual(outcome);
  });
});

describe('other token locations keep their rules for a cached token', () => {
  test('getToken finding the same token as the header: 400 token_location_conflict, cached or not', async () => {
    const gate = createTokenGate({ ...env.issuer.options, getToken: () => token });
    expect(await answer(gate, [`Bearer ${token}`])).toEqual([400, 'token_location_conflict']);
    expect(await answer(createTokenGate(env.issuer.options), [`Bearer ${token}`])).toEqual(OK);
    expect(await answer(gate, [`Bearer ${token}`])).toEqual([400, 'token_location_conflict']);
  });

  test('a query token beside a cached header token under allowQueryToken: 400 token_location_conflict', async () => {
    const gate = createTokenGate({ ...env.issuer.options, allowQueryToken: true });
    expect(await answer(gate, [`Bearer ${token}`])).toEqual(OK);
    expect(await answer(gate, [`Bearer ${token}`], `/r?access_token=${token}`)).toEqual([
      400,
      'token_location_conflict',
    ]);
  });

  test('an oversized token is refused as too large, never looked up as a near miss', async () => {
    const gate = createTokenGate(env.issuer.options);
    expect(await answer(gate, [`Bearer ${'a'.repeat(9000)}`])).toEqual([401, 'token_too_large']);
  });
});

describe('the cache channel sees one lookup per request', () => {
  test('a new token: one miss; the same token again: one hit', async () => {
    const events: boolean[] = [];
    const onMessage = (message: unknown) => events.push((message as { hit: boolean }).hit);
    channel('express-token-gate:cache').subscribe(onMessage);
    try {
      const gate = createTokenGate(env.issuer.options);
      const fresh = await env.issuer.sign();
      expect(await answer(gate, [`Bearer ${fresh}`])).toEqual(OK);
      expect(events).toEqual([false]);
      expect(await answer(gate, [`bearer ${fresh}`])).toEqual(OK);
      expect(events).toEqual([false, true]);
    } finally {
      channel('express-token-gate:cache').unsubscribe(onMessage);
    }
  });
});
