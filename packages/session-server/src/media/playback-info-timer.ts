import type { ClockTimer, MediaClock } from "./media-clock.ts";

/** Interval of `playbackInfo` events while playing (Rialto's 32 ms). */
export const PLAYBACK_INFO_INTERVAL_MS = 32;

/**
 * Sends `playbackInfo` (position and volume) every 32 ms of wall time while a pipeline plays,
 * so a browser's sink answers position queries without a round trip (SPEC 9.2).
 */
export class PlaybackInfoTimer {
  readonly #clock: MediaClock;
  readonly #send: () => void;
  #timer: ClockTimer | undefined;

  constructor(clock: MediaClock, send: () => void) {
    this.#clock = clock;
    this.#send = send;
  }

  /** Starts sending (at once, then every 32 ms); nothing when already running. */
  start(): void {
    if (this.#timer !== undefined) return;
    const tick = () => {
      this.#timer = this.#clock.setTimer(PLAYBACK_INFO_INTERVAL_MS, tick);
      this.#send();
    };
    tick();
  }

  /** Stops sending. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
