/**
 * The one line an operator sees when the issuer's key set cannot be fetched, without wiring
 * `onKeySetEvent`: the first failure of an outage, then at most one line per `WARN_EVERY_MS`
 * while it lasts, and one line when the keys are fetched again.
 */
import type { KeySetEvent } from './options';

/** Where warnings go: a function taking one line, or an object with `warn` (console, pino, winston). */
export type Logger = ((message: string) => void) | { warn(message: string): void };

/** Longest silence while a key set keeps failing. */
export const WARN_EVERY_MS = 5 * 60_000;

/** The default logger: `console.warn`, looked up when a line is written. */
export const consoleLogger = (message: string): void => console.warn(message);

function write(logger: Logger, line: string): void {
  try {
    if (typeof logger === 'function') logger(line);
    else logger.warn(line);
  } catch {
    // A broken logger must never change the outcome of a verification.
  }
}

/**
 * A key-set listener that writes failures to `logger`, rate-limited. `now` is the wall clock in ms.
 *
 * @example keySet.addListener(keySetWarner(console));
 */
export function keySetWarner(logger: Logger, now: () => number = Date.now): (event: KeySetEvent) => void {
  let failing = false;
  let lastWarnAt = -Infinity;
  let suppressed = 0;
  return (event) => {
    if (event.type === 'fetched') {
      if (failing) write(logger, `express-token-gate: key set ${event.uri} fetched again (${event.keys} keys)`);
      failing = false;
      suppressed = 0;
      lastWarnAt = -Infinity;
      return;
    }
    if (event.type !== 'failed') return;
    failing = true;
    const at = now();
    if (at - lastWarnAt < WARN_EVERY_MS) {
      suppressed += 1;
      return;
    }
    const more = suppressed > 0 ? ` (${suppressed} more failures since the last warning)` : '';
    write(
      logger,
      `express-token-gate: cannot fetch the key set ${event.uri}: ${event.error}; next attempt in ${Math.ceil(event.retryInMs / 1000)} s${more}. ` +
        'Tokens get 503 jwks_unavailable unless earlier keys are cached. (logger: false silences this)',
    );
    lastWarnAt = at;
    suppressed = 0;
  };
}

const warners = new WeakMap<object, WeakMap<object, (event: KeySetEvent) => void>>();

/**
 * The warner of `logger` for `keySet`: one per pair, so gates sharing a key set and a logger add
 * one listener between them and an outage is reported once, not once per gate.
 */
export function warnerFor(keySet: object, logger: Logger): (event: KeySetEvent) => void {
  let byLogger = warners.get(keySet);
  if (!byLogger) warners.set(keySet, (byLogger = new WeakMap()));
  let warner = byLogger.get(logger);
  if (!warner) byLogger.set(logger, (warner = keySetWarner(logger)));
  return warner;
}
