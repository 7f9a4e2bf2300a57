import { type ClockTimer, type MediaClock, systemClock } from "../../media/media-clock.ts";

/**
 * The system clock with a switch that wedges it: once {@link FreezableClock.freeze}d, timers
 * never fire, so every render loop on it stops (no render pass, no position, no heartbeat) while
 * the process still answers. Fault injection for `test/stallRenderLoop` (test methods only).
 */
export class FreezableClock implements MediaClock {
  #frozen = false;

  /** Wedges every timer from now on, those already set included. */
  freeze(): void {
    this.#frozen = true;
  }

  now(): number {
    return systemClock.now();
  }

  setTimer(delayMs: number, callback: () => void): ClockTimer {
    return systemClock.setTimer(delayMs, () => {
      if (!this.#frozen) callback();
    });
  }
}
