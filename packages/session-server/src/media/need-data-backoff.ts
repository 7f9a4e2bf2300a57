/** First re-request delay after an answer without frames, ms (Rialto's NeedDataDelayCalculator). */
export const NEED_DATA_FIRST_DELAY_MS = 15;
/** Re-request delays double while they stay below this, ms. */
export const NEED_DATA_DELAY_LIMIT_MS = 500;

/**
 * The back-off of one source's needMediaData re-requests after `NoAvailableSamples`, `Error`,
 * `CodecChanged` or a failed read: 15 ms, doubling while below 500 ms (15, 30, 60, 120, 240,
 * 480, 480, ...), back to 15 ms once frames arrive.
 */
export class NeedDataBackoff {
  #nextMs = NEED_DATA_FIRST_DELAY_MS;

  /** The delay before the next re-request, in ms; each call moves the back-off on. */
  next(): number {
    const delay = this.#nextMs;
    if (delay * 2 < NEED_DATA_DELAY_LIMIT_MS) this.#nextMs = delay * 2;
    return delay;
  }

  /** Frames arrived: the next delay is the first one again. */
  reset(): void {
    this.#nextMs = NEED_DATA_FIRST_DELAY_MS;
  }
}
