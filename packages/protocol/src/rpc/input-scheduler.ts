/** Default CPU time all connections of a listener may spend on input in one event-loop turn, ms. */
export const DEFAULT_TURN_BUDGET_MS = 2;

/**
 * Fairness across the connections of one listener: the CPU time spent handling their input in
 * the current turn of the event loop. Once the turn's budget is spent, every connection handles
 * one small slice of what it received and keeps the rest for a later turn, so N peers flooding
 * at once cost the others about one budget per turn, not N shares.
 */
export class InputScheduler {
  readonly turnBudgetMs: number;
  #spent = 0;
  #resetScheduled = false;

  constructor(turnBudgetMs: number = DEFAULT_TURN_BUDGET_MS) {
    this.turnBudgetMs = turnBudgetMs;
  }

  /** True once this turn's budget is spent. */
  get exhausted(): boolean {
    return this.#spent >= this.turnBudgetMs;
  }

  /** Records `ms` of input handling in the current turn. */
  charge(ms: number): void {
    this.#spent += ms;
    if (this.#resetScheduled) return;
    this.#resetScheduled = true;
    setImmediate(() => {
      this.#spent = 0;
      this.#resetScheduled = false;
    });
  }
}
