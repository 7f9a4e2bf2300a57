import { describeValue, type Easing, MAX_VOLUME_RAMP_MS, RialtoError } from "@rialto/protocol";
import type { MediaClock } from "./media-clock.ts";

const EASE: Record<Easing, (t: number) => number> = {
  Linear: (t) => t,
  InCubic: (t) => t ** 3,
  OutCubic: (t) => 1 - (1 - t) ** 3,
};

/** A pipeline's volume (0 .. 1, initially 1), set at once or ramped over time by an easing. */
export class VolumeRamp {
  readonly #clock: MediaClock;
  #from = 1;
  #to = 1;
  #startMs = 0;
  #durationMs = 0;
  #easing: Easing = "Linear";

  constructor(clock: MediaClock) {
    this.#clock = clock;
  }

  /**
   * Ramps from the current volume to `volume` (0 .. 1) over `durationMs` (an integer
   * 0 .. 60000; 0: at once). Bad values are `INVALID_ARGUMENT` naming `pipeline/setVolume`.
   */
  set(volume: number, durationMs: number, easing: Easing): void {
    if (!(typeof volume === "number" && volume >= 0 && volume <= 1)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `pipeline/setVolume: volume ${describeValue(volume)} is not in 0..1`,
      );
    }
    if (!Number.isInteger(durationMs) || durationMs < 0 || durationMs > MAX_VOLUME_RAMP_MS) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `pipeline/setVolume: ramp of ${describeValue(durationMs)} ms is not an integer 0..${MAX_VOLUME_RAMP_MS}`,
      );
    }
    this.#from = this.current();
    this.#to = volume;
    this.#startMs = this.#clock.now();
    this.#durationMs = durationMs;
    this.#easing = easing;
  }

  /** Whether a ramp is still under way. */
  get ramping(): boolean {
    return this.#clock.now() - this.#startMs < this.#durationMs;
  }

  /** The volume now. */
  current(): number {
    const elapsed = this.#clock.now() - this.#startMs;
    if (elapsed >= this.#durationMs) return this.#to;
    const shaped = EASE[this.#easing](elapsed / this.#durationMs);
    return this.#from + (this.#to - this.#from) * shaped;
  }
}
