import { describeValue, RialtoError, type ShmRegion } from "@rialto/protocol";

/** Free space of a {@link PcmRing}: the frames that fit and where they go. */
export interface RingSpace {
  /** Frames that fit now. */
  readonly availableFrames: number;
  /** Where the first frames go (from the write position to the end of the ring at most). */
  readonly main: ShmRegion;
  /** Where the rest go, from the start of the ring (length 0 when the free space does not wrap). */
  readonly wrap: ShmRegion;
}

/**
 * The frame accounting of a PCM ring buffer in a byte region: `capacity` whole frames of
 * `frameBytes` each (a tail shorter than a frame is never used), a read position and a count of
 * queued frames. The writer fills the free space ({@link space}) and commits; the reader consumes
 * from the read position. A region too small for one frame is `INVALID_ARGUMENT`. Regions are
 * reported as offsets from `baseOffset` (where the region starts in the shared mapping), as the
 * wire wants them.
 */
export class PcmRing {
  /** Bytes per frame. */
  readonly frameBytes: number;
  /** Whole frames the ring holds. */
  readonly capacity: number;
  readonly #bytes: Uint8Array;
  readonly #baseOffset: number;
  #readFrame = 0;
  #queued = 0;

  constructor(bytes: Uint8Array, frameBytes: number, baseOffset = 0) {
    this.#bytes = bytes;
    this.frameBytes = frameBytes;
    this.#baseOffset = baseOffset;
    this.capacity = Math.floor(bytes.byteLength / frameBytes);
    if (!(this.capacity >= 1)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `createWebAudioPlayer: a ${frameBytes}-byte frame does not fit the ${bytes.byteLength}-byte ring`,
      );
    }
  }

  /** Frames written and not yet consumed. */
  get queued(): number {
    return this.#queued;
  }

  /** The free space and where it lies. */
  space(): RingSpace {
    const availableFrames = this.capacity - this.#queued;
    const writeFrame = (this.#readFrame + this.#queued) % this.capacity;
    const mainFrames = Math.min(availableFrames, this.capacity - writeFrame);
    return {
      availableFrames,
      main: this.#region(writeFrame, mainFrames),
      wrap: this.#region(0, availableFrames - mainFrames),
    };
  }

  /**
   * Commits `frames` frames written into the free space (in order: main, then wrap). More than
   * fit, or not a non-negative integer, is `INVALID_ARGUMENT` naming both numbers.
   */
  commit(frames: number): void {
    const available = this.capacity - this.#queued;
    if (!Number.isInteger(frames) || frames < 0 || frames > available) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `writeBuffer: numberOfFrames ${describeValue(frames)} is more than the ${available} frames available`,
      );
    }
    this.#queued += frames;
  }

  /**
   * Consumes up to `frames` of the oldest queued frames and returns their bytes as one or two views
   * of the ring (two when they wrap); the views are only valid until the next write.
   */
  consume(frames: number): Uint8Array[] {
    const count = Math.min(frames, this.#queued);
    if (count <= 0) return [];
    const first = Math.min(count, this.capacity - this.#readFrame);
    const parts = [this.#view(this.#readFrame, first)];
    if (count > first) parts.push(this.#view(0, count - first));
    this.#readFrame = (this.#readFrame + count) % this.capacity;
    this.#queued -= count;
    return parts;
  }

  #region(frame: number, frames: number): ShmRegion {
    return { offset: this.#baseOffset + frame * this.frameBytes, length: frames * this.frameBytes };
  }

  #view(frame: number, frames: number): Uint8Array {
    return this.#bytes.subarray(frame * this.frameBytes, (frame + frames) * this.frameBytes);
  }
}
