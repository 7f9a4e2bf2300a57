import type { PlaybackOptions } from "@rialto/protocol";
import type { MediaClock } from "./media-clock.ts";

/** The clock kinds of SPEC 9. */
export type ClockKind = PlaybackOptions["clock"];

const NS_PER_MS = 1_000_000;

/** Slack of the "is it due?" test, in ns: absorbs the rounding of wall-clock arithmetic. */
const DUE_TOLERANCE_NS = 1_000;

/**
 * The playback position of one pipeline and when frames fall due. `realtime`: the position
 * runs with the wall clock times the rate while started. `freerun`: every frame is due at once,
 * and the position is the latest timestamp rendered (never below the last seek target).
 */
export interface TimeBase {
  /** Which of the two it is. */
  readonly kind: ClockKind;
  /** The playback rate (> 0). */
  readonly rate: number;
  /** The position now, in ns. */
  positionNs(): number;
  /** Wall-clock ms until the position reaches `positionNs`: 0 once due, Infinity while stopped. */
  delayUntilMs(positionNs: number): number;
  /** Starts running from the current position. */
  start(): void;
  /** Stops; the position stays where it is. */
  stop(): void;
  /** Jumps to `positionNs` (running or not). */
  seek(positionNs: number): void;
  /** Changes the rate from now on; the position does not jump. */
  setRate(rate: number): void;
  /** A frame with this timestamp was rendered. */
  rendered(timestampNs: number): void;
}

class RealtimeBase implements TimeBase {
  readonly kind = "realtime";
  readonly #clock: MediaClock;
  #rate = 1;
  #running = false;
  #baseNs = 0;
  #baseMs = 0;

  constructor(clock: MediaClock) {
    this.#clock = clock;
  }

  get rate(): number {
    return this.#rate;
  }

  positionNs(): number {
    if (!this.#running) return this.#baseNs;
    return Math.round(this.#baseNs + (this.#clock.now() - this.#baseMs) * NS_PER_MS * this.#rate);
  }

  delayUntilMs(positionNs: number): number {
    if (!this.#running) return Number.POSITIVE_INFINITY;
    const aheadNs = positionNs - this.positionNs();
    return aheadNs <= DUE_TOLERANCE_NS ? 0 : aheadNs / NS_PER_MS / this.#rate;
  }

  start(): void {
    this.#rebase(this.positionNs());
    this.#running = true;
  }

  stop(): void {
    this.#rebase(this.positionNs());
    this.#running = false;
  }

  seek(positionNs: number): void {
    this.#rebase(positionNs);
  }

  setRate(rate: number): void {
    this.#rebase(this.positionNs());
    this.#rate = rate;
  }

  rendered(): void {}

  #rebase(positionNs: number): void {
    this.#baseNs = positionNs;
    this.#baseMs = this.#clock.now();
  }
}

class FreerunBase implements TimeBase {
  readonly kind = "freerun";
  rate = 1;
  #floorNs = 0;
  #latestNs = Number.NEGATIVE_INFINITY;

  positionNs(): number {
    return Math.max(this.#floorNs, this.#latestNs);
  }

  delayUntilMs(): number {
    return 0;
  }

  start(): void {}

  stop(): void {}

  seek(positionNs: number): void {
    this.#floorNs = positionNs;
    this.#latestNs = Number.NEGATIVE_INFINITY;
  }

  setRate(rate: number): void {
    this.rate = rate;
  }

  rendered(timestampNs: number): void {
    this.#latestNs = Math.max(this.#latestNs, timestampNs);
  }
}

/** Creates the time base of a pipeline; `realtime` reads `clock`. */
export function createTimeBase(kind: ClockKind, clock: MediaClock): TimeBase {
  return kind === "realtime" ? new RealtimeBase(clock) : new FreerunBase();
}
