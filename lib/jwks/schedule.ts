/**
 * Timers behind an injectable function, so tests drive background refreshes and fetch timeouts
 * with a manual clock instead of waiting.
 */

/** Cancels a scheduled callback; calling it after the callback ran does nothing. */
export type Cancel = () => void;

/** Runs `callback` once after `delayMs`; returns a canceller. */
export type Schedule = (callback: () => void, delayMs: number) => Cancel;

/** Node clamps larger delays to 1 ms, which would turn a long wait into a busy loop. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * The default schedule: `setTimeout`, `unref()`'d so a key set never keeps a process (or a test
 * runner) alive on its own.
 */
export const unrefSchedule: Schedule = (callback, delayMs) => {
  const timer = setTimeout(callback, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
  timer.unref();
  return () => clearTimeout(timer);
};
