/** A scheduled callback of a {@link MediaClock}. */
export interface ClockTimer {
  /** Stops the callback from running; harmless after it ran or was cancelled. */
  cancel(): void;
}

/**
 * Time source and timers of the media engine: the OS boundary that tests replace with a manual
 * clock, so that pacing, position events and back-offs can be driven step by step.
 */
export interface MediaClock {
  /** Monotonic time in milliseconds (fractional); only differences matter. */
  now(): number;
  /** Runs `callback` once, `delayMs` milliseconds (>= 0) from now. */
  setTimer(delayMs: number, callback: () => void): ClockTimer;
}

/**
 * The real clock: `performance.now()` and `setTimeout`, except that a zero delay runs on
 * `setImmediate`: Bun's `setTimeout(fn, 0)` waits about a millisecond, which would cap a freerun
 * source at one render pass (24 frames) per millisecond.
 */
export const systemClock: MediaClock = {
  now: () => performance.now(),
  setTimer(delayMs, callback) {
    if (delayMs <= 0) {
      const immediate = setImmediate(callback);
      return { cancel: () => clearImmediate(immediate) };
    }
    const handle = setTimeout(callback, delayMs);
    return { cancel: () => clearTimeout(handle) };
  },
};
