/**
 * Tracks the highest id below which every id has been settled ("highest consecutive reply
 * seen" of the retry-RPC design). Ids settle in any order; the watermark only moves forward.
 */
export class ReplyWatermark {
  #highest = 0;
  readonly #ahead = new Set<number>();

  /** Every id up to this one has settled. */
  get highest(): number {
    return this.#highest;
  }

  /** Records that `id` settled (answered, failed or given up on). */
  settle(id: number): void {
    if (id <= this.#highest) return;
    this.#ahead.add(id);
    while (this.#ahead.delete(this.#highest + 1)) this.#highest++;
  }
}
