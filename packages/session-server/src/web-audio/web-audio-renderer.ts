import {
  type BufferAvailable,
  type BufferDelay,
  type DeviceInfo,
  describeValue,
  type PcmConfig,
  type PlaybackOptions,
  RialtoError,
  type WebAudioPlayerState,
  type WebAudioStateEvent,
} from "@rialto/protocol";
import { type ClockTimer, type MediaClock, systemClock } from "../media/media-clock.ts";
import { type PcmFormat, validatePcmConfig } from "./pcm-format.ts";
import { PcmRing } from "./pcm-ring.ts";

/** Frames per write a device prefers at most (Rialto: preferredFrames = min(640, maximum)). */
export const PREFERRED_FRAMES = 640;

/** Default longest wait between two consumption steps while playing, in ms. */
export const DEFAULT_TICK_MS = 20;

/** Slack when turning elapsed time into whole frames (absorbs floating-point rounding). */
const FRAME_EPSILON = 1e-6;

/** Options of a {@link WebAudioRenderer}. */
export interface WebAudioRendererOptions {
  /** The wire id of the player, carried in its `state` events. */
  readonly playerId: number;
  /** The PCM format (validated: see `validatePcmConfig`). */
  readonly pcm: PcmConfig;
  /** The player's ring partition: a view of the AV shared memory (default partition 10 KiB). */
  readonly ring: Uint8Array;
  /** Offset of `ring` in the AV mapping, added to the regions `getBufferAvailable` reports; default 0. */
  readonly ringOffset?: number;
  /**
   * `realtime` (default): frames are consumed at the PCM rate by `clock`. `freerun`: everything
   * written is consumed at once while playing (tests, benchmarks).
   */
  readonly clockKind?: PlaybackOptions["clock"];
  /** Time source and timers; default the system clock. */
  readonly clock?: MediaClock;
  /** Longest wait between two consumption steps while playing, in ms (> 0); default 20. */
  readonly tickMs?: number;
  /** State changes (the `webAudio/state` event). */
  readonly onState?: (event: WebAudioStateEvent) => void;
  /**
   * The virtual output device: gets the consumed PCM bytes in order (views of the ring, valid only
   * during the call). A throw puts the player in `Failure`.
   */
  readonly onPcm?: (pcm: Uint8Array) => void;
}

/**
 * The session server's side of a web-audio player (Rialto's `IWebAudioPlayer`; the client's is
 * `WebAudioPlayer` of @rialto/client): PCM over a ring in shared memory. The client asks
 * where to write (`getBufferAvailable`), copies frames there and commits them (`writeBuffer`);
 * while `Playing`, the virtual device consumes them at the PCM rate. States: `Idle` → `Playing` ⇄
 * `Paused`; after `setEos`, `EndOfStream` once the ring has drained while playing; `Failure` when
 * the device fails. Calls that change things are `INVALID_STATE` in `EndOfStream`, `Failure` or
 * once destroyed.
 */
export class WebAudioRenderer implements Disposable {
  /** The validated format. */
  readonly format: PcmFormat;
  readonly #id: number;
  readonly #ring: PcmRing;
  readonly #clock: MediaClock;
  readonly #freerun: boolean;
  readonly #tickMs: number;
  readonly #onState: ((event: WebAudioStateEvent) => void) | undefined;
  readonly #onPcm: ((pcm: Uint8Array) => void) | undefined;
  #state: WebAudioPlayerState = "Idle";
  #eos = false;
  #destroyed = false;
  #volume = 1;
  #timer: ClockTimer | undefined;
  /** Realtime pacing: consumption runs from this time, and this many frames were consumed since. */
  #anchorMs = 0;
  #consumedSinceAnchor = 0;

  constructor(options: WebAudioRendererOptions) {
    this.format = validatePcmConfig(options.pcm);
    const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    if (!(tickMs > 0) || !Number.isFinite(tickMs)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `createWebAudioPlayer: tickMs ${tickMs} is not > 0`,
      );
    }
    this.#ring = new PcmRing(options.ring, this.format.frameBytes, options.ringOffset ?? 0);
    this.#id = options.playerId;
    this.#clock = options.clock ?? systemClock;
    this.#freerun = options.clockKind === "freerun";
    this.#tickMs = tickMs;
    this.#onState = options.onState;
    this.#onPcm = options.onPcm;
  }

  /** The current state. */
  get state(): WebAudioPlayerState {
    return this.#state;
  }

  /** Starts (or resumes) consuming; playing before any data is allowed (deferred play). */
  play(): void {
    this.#assertLive("play");
    if (this.#state === "Playing") return;
    this.#reanchor();
    this.#setState("Playing");
    this.#step();
  }

  /** Stops consuming; what is queued stays queued. */
  pause(): void {
    this.#assertLive("pause");
    if (this.#state === "Paused") return;
    this.#advance();
    this.#cancelTimer();
    if (this.#state === "Playing" || this.#state === "Idle") this.#setState("Paused");
  }

  /** No more data will come: `EndOfStream` follows once the queued frames are played. */
  setEos(): void {
    this.#assertLive("setEos");
    this.#eos = true;
    this.#step();
  }

  /** The free space of the ring: how many frames fit and where (main part, then wrap-around). */
  getBufferAvailable(): BufferAvailable {
    this.#advance();
    return this.#ring.space();
  }

  /**
   * Commits `numberOfFrames` frames the client wrote where `getBufferAvailable` said. More than
   * are free is `INVALID_ARGUMENT`; after `setEos` it is `INVALID_STATE`.
   */
  writeBuffer(numberOfFrames: number): void {
    this.#assertLive("writeBuffer");
    if (this.#eos) {
      throw new RialtoError("INVALID_STATE", "writeBuffer: player has had setEos; no more data");
    }
    this.#advance();
    // After an underrun, pacing restarts when data arrives, not when the ring ran dry.
    if (this.#ring.queued === 0) this.#reanchor();
    this.#ring.commit(numberOfFrames);
    this.#step();
  }

  /** Frames written and not yet played. */
  getBufferDelay(): BufferDelay {
    this.#advance();
    return { delayFrames: this.#ring.queued };
  }

  /** The virtual device: preferred frames per write min(640, ring capacity), deferred play. */
  getDeviceInfo(): DeviceInfo {
    const maximumFrames = this.#ring.capacity;
    return {
      preferredFrames: Math.min(PREFERRED_FRAMES, maximumFrames),
      maximumFrames,
      supportDeferredPlay: true,
    };
  }

  /** Sets the volume, 0 .. 1 (recorded: the virtual device does not scale samples). */
  setVolume(volume: number): void {
    this.#assertNotDestroyed("setVolume");
    if (typeof volume !== "number" || !(volume >= 0 && volume <= 1)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `setVolume: volume ${describeValue(volume)} is not 0 .. 1`,
      );
    }
    this.#volume = volume;
  }

  /** The volume, 0 .. 1 (default 1). */
  getVolume(): number {
    return this.#volume;
  }

  /** Stops the player's timer; every later call but the getters is `INVALID_STATE`. Idempotent. */
  destroy(): void {
    this.#destroyed = true;
    this.#cancelTimer();
  }

  [Symbol.dispose](): void {
    this.destroy();
  }

  /**
   * Health check (SPEC 3 sequence 5): resolves once the timer queue that consumes the ring has
   * gone round, so a wedged player never resolves it.
   */
  heartbeat(): Promise<void> {
    return new Promise((resolve) => this.#clock.setTimer(0, resolve));
  }

  #assertNotDestroyed(method: string): void {
    if (this.#destroyed)
      throw new RialtoError("INVALID_STATE", `${method}: player ${this.#id} is destroyed`);
  }

  #assertLive(method: string): void {
    this.#assertNotDestroyed(method);
    if (this.#state === "EndOfStream" || this.#state === "Failure") {
      throw new RialtoError("INVALID_STATE", `${method}: player ${this.#id} is in ${this.#state}`);
    }
  }

  #reanchor(): void {
    this.#anchorMs = this.#clock.now();
    this.#consumedSinceAnchor = 0;
  }

  /** Consumes what is due by now (everything, in freerun) while playing. */
  #advance(): void {
    if (this.#state !== "Playing") return;
    let due = this.#ring.queued;
    if (!this.#freerun) {
      const elapsedFrames = ((this.#clock.now() - this.#anchorMs) * this.format.rate) / 1000;
      due = Math.floor(elapsedFrames + FRAME_EPSILON) - this.#consumedSinceAnchor;
    }
    if (due <= 0) return;
    const parts = this.#ring.consume(due);
    for (const part of parts) this.#consumedSinceAnchor += part.byteLength / this.format.frameBytes;
    try {
      for (const part of parts) this.#onPcm?.(part);
    } catch {
      this.#cancelTimer();
      this.#setState("Failure");
    }
  }

  /** Consumes what is due, ends the stream when drained after setEos, and re-arms the timer. */
  #step(): void {
    this.#cancelTimer();
    this.#advance();
    if (this.#state !== "Playing") return;
    const queued = this.#ring.queued;
    if (queued === 0) {
      if (this.#eos) this.#setState("EndOfStream");
      return;
    }
    const drainedAtMs =
      this.#anchorMs + ((this.#consumedSinceAnchor + queued) * 1000) / this.format.rate;
    const delayMs = Math.min(this.#tickMs, Math.max(0, drainedAtMs - this.#clock.now()));
    this.#timer = this.#clock.setTimer(delayMs, () => {
      this.#timer = undefined;
      this.#step();
    });
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #setState(state: WebAudioPlayerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onState?.({ playerId: this.#id, state });
  }
}
