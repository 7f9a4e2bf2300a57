import type { ClockTimer, MediaClock } from "../media-clock.ts";

interface PendingTimer {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** Timers fired by one `advance` before it gives up on a runaway timer loop. */
const MAX_FIRINGS_PER_ADVANCE = 1_000_000;

/**
 * A {@link MediaClock} that only moves when told to: tests call {@link ManualClock.advance} and
 * the due timers run in time order (ties in the order they were set), including timers those
 * callbacks set inside the advanced window. Time starts at 0 ms.
 */
export class ManualClock implements MediaClock {
  #now = 0;
  #order = 0;
  #timers: PendingTimer[] = [];

  /** Current time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `callback` at now + `delayMs` (negative delays count as 0). */
  setTimer(delayMs: number, callback: () => void): ClockTimer {
    const timer: PendingTimer = {
      at: this.#now + Math.max(0, delayMs),
      order: this.#order++,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers set and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Time of the earliest pending timer in ms, or undefined when none is pending. */
  get nextTimerAt(): number | undefined {
    return this.#next()?.at;
  }

  /**
   * Moves time forward by `ms` (>= 0), running every timer that falls due on the way with the
   * clock set to its due time. `advance(0)` runs the timers already due.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ${ms} ms is not >= 0`);
    const target = this.#now + ms;
    for (let fired = 0; ; fired++) {
      if (fired === MAX_FIRINGS_PER_ADVANCE) {
        throw new Error(`ManualClock.advance: more than ${fired} timers fired; a timer loop?`);
      }
      const timer = this.#next();
      if (timer === undefined || timer.at > target) break;
      this.#timers.splice(this.#timers.indexOf(timer), 1);
      this.#now = timer.at;
      timer.callback();
    }
    this.#now = target;
  }

  #next(): PendingTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    let next: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (
        next === undefined ||
        timer.at < next.at ||
        (timer.at === next.at && timer.order < next.order)
      ) {
        next = timer;
      }
    }
    return next;
  }
}
