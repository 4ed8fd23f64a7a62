/** Shared set-up for key-set tests: a switchable JWKS server, a manual clock and an event log. */
import { exportJWK } from 'jose';
import { RemoteKeySet } from '../../lib/jwks/key-set';
import { parseKeySetOptions, type KeySetEvent, type KeySetOptions, type ResolvedKeySetOptions } from '../../lib/jwks/options';
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

/** The public `x` coordinate of a resolved key, to tell which published key it is. */
/** The x coordinate of the single key resolved for a token (a list of one). */
export async function xOf(keys: readonly CryptoKey[]): Promise<string | undefined> {
  expect(keys).toHaveLength(1);
  return (await exportJWK(keys[0]!)).x;
}
