/** A bad option, thrown when a gate is created (at startup), never on a request. */
export class OptionsError extends TypeError {
  override name = 'OptionsError';
  constructor(option: string, problem: string) {
    super(`express-token-gate: option "${option}" ${problem}`);
  }
}
