import type { Easing } from "@rialto/protocol";
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

  /** Ramps from the current volume to `volume` over `durationMs` (0: at once). */
  set(volume: number, durationMs: number, easing: Easing): void {
    this.#from = this.current();
    this.#to = volume;
    this.#startMs = this.#clock.now();
    this.#durationMs = durationMs;
    this.#easing = easing;
  }

  /** The volume now. */
  current(): number {
    const elapsed = this.#clock.now() - this.#startMs;
    if (elapsed >= this.#durationMs) return this.#to;
    const shaped = EASE[this.#easing](elapsed / this.#durationMs);
    return this.#from + (this.#to - this.#from) * shaped;
  }
}
