/** Shared set-up for key-set tests: a switchable JWKS server, a manual clock and an event log. */
import { exportJWK, type JWK } from 'jose';
import { RemoteKeySet } from '../../lib/jwks/key-set';
import {
  parseKeySetOptions,
  type KeySetEvent,
  type KeySetOptions,
  type ResolvedKeySetOptions,
} from '../../lib/jwks/options';
import { type JwksServer, makeSigningKey, type SigningKey, startJwksServer } from './jwks-server';
import { ManualClock } from './manual-clock';

export interface Fixture {
  server: JwksServer;
  clock: ManualClock;
  events: KeySetEvent[];
  options: ResolvedKeySetOptions;
  key: SigningKey;
  /** An isolated key set (not in the process-wide registry) on the manual clock. */
  set: RemoteKeySet;
  /** Events of one type, in order. */
  eventsOf<T extends KeySetEvent['type']>(type: T): Extract<KeySetEvent, { type: T }>[];
}

export async function keySetFixture(jwks: KeySetOptions = {}, cacheControl?: string): Promise<Fixture> {
  const key = await makeSigningKey('key-1');
  const server = await startJwksServer({ keys: [key.jwk], cacheControl });
  const clock = new ManualClock();
  const events: KeySetEvent[] = [];
  const options = parseKeySetOptions({ onKeySetEvent: (event: KeySetEvent) => events.push(event), ...jwks });
  const set = new RemoteKeySet(server.uri, options, clock.now, clock.schedule);
  return {
    server,
    clock,
    events,
    options,
    key,
    set,
    eventsOf: (type) => events.filter((e) => e.type === type) as never,
  };
}

/** The x coordinate of the single key resolved for a token (a list of one). */
export async function xOf(keys: readonly CryptoKey[]): Promise<string | undefined> {
  expect(keys).toHaveLength(1);
  return (await exportJWK(keys[0]!)).x;
}

/** The public members that tell one key from another (EC `x`/`y`, OKP `x`, RSA `n`/`e`). */
const publicPart = ({ kty, crv, x, y, n, e }: JWK) => ({ kty, crv, x, y, n, e });

/**
 * Asserts that `keys` resolves to exactly the published keys `expected`, in order: the key set
 * handed back those keys, not merely some key.
 */
export async function expectKeys(keys: Promise<readonly CryptoKey[]>, ...expected: JWK[]): Promise<void> {
  const resolved = await keys;
  const parts = await Promise.all(resolved.map(async (key) => publicPart(await exportJWK(key))));
  expect(parts).toEqual(expected.map(publicPart));
}
