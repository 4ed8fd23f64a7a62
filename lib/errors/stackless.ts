let savedStackTraceLimit = Error.stackTraceLimit;

/**
 * Rejections are answers to clients, not faults in the program: their stack says nothing a
 * developer needs, and capturing it is the largest single cost of refusing a garbage token.
 *
 * Call it on the message passed to `super()`: it lowers `Error.stackTraceLimit` while `Error`
 * builds the object, and the constructor calls `restoreStackTraceLimit()` right after `super()`.
 */
export function stackless(description: string): string {
  savedStackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  return description;
}

/** Puts back the limit `stackless` lowered. */
export function restoreStackTraceLimit(): void {
  Error.stackTraceLimit = savedStackTraceLimit;
}
