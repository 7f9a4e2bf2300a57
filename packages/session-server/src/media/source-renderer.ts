import { RialtoError, type SourceId, type SourceStats } from "@rialto/protocol";
import type { MediaFrame, MediaKind } from "@rialto/shm";
import { copyFrame } from "./frame-copy.ts";
import type { FrameSink } from "./frame-sink.ts";

function checkFrame(sourceId: SourceId, kind: MediaKind, frame: MediaFrame, index: number): void {
  const problem =
    frame.kind !== kind
      ? `is ${frame.kind}, the source is ${kind}`
      : !Number.isSafeInteger(frame.timestampNs)
        ? `has timestamp ${frame.timestampNs} ns, not a safe integer`
        : !Number.isSafeInteger(frame.durationNs) || frame.durationNs < 0
          ? `has duration ${frame.durationNs} ns, not a non-negative safe integer`
          : undefined;
  if (problem !== undefined) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `pipeline/pushFrames: frame ${index} of source ${sourceId} ${problem}`,
    );
  }
}

/**
 * The renderer of one source: its frame queue (kept in timestamp order), its sink, and the
 * per-source flags the pipeline's state machine reads. It decides nothing about time: the
 * pipeline takes due frames from it and renders or drops them.
 */
export class SourceRenderer {
  /** The source id. */
  readonly id: SourceId;
  /** The media kind every frame must have. */
  readonly kind: MediaKind;
  /** The source's MIME type (its codec; `switchSource` may change it). */
  mimeType: string;
  readonly #sink: FrameSink;
  readonly #queue: MediaFrame[] = [];
  /** Queued frames that own their bytes (copied by {@link SourceRenderer.ownQueuedFrames}). */
  readonly #owned = new WeakSet<MediaFrame>();
  #droppedFrames = 0;
  /** The source sent end of stream (cleared by a flush). */
  eos = false;
  /** A data request is outstanding. */
  requestPending = false;
  /** Muted by `setMute` (frames are still rendered: the virtual sink has no audio out). */
  muted = false;
  /** `firstFrame` was sent since the last flush. */
  firstFrameSent = false;
  /** `bufferUnderflow` was sent and no frame arrived since. */
  underflowReported = false;
  /** End (timestamp + duration) of the last frame rendered since the last flush, in ns. */
  lastEndNs: number | undefined;

  constructor(id: SourceId, kind: MediaKind, mimeType: string, sink: FrameSink) {
    this.id = id;
    this.kind = kind;
    this.mimeType = mimeType;
    this.#sink = sink;
  }

  /** Frames waiting to be rendered. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Frames not rendered so far (late, or not decryptable); survives flushes. */
  get droppedFrames(): number {
    return this.#droppedFrames;
  }

  /** The earliest queued frame. */
  peek(): MediaFrame | undefined {
    return this.#queue[0];
  }

  /** Removes and returns the earliest queued frame. */
  take(): MediaFrame | undefined {
    return this.#queue.shift();
  }

  /**
   * Queues frames in timestamp order (equal timestamps keep their arrival order), leaving out
   * frames that end at or before `startNs` (before a seek target). Every frame is checked
   * first: one bad frame queues none (`INVALID_ARGUMENT`).
   */
  enqueue(frames: readonly MediaFrame[], startNs: number): void {
    frames.forEach((frame, index) => {
      checkFrame(this.id, this.kind, frame, index);
    });
    const queue = this.#queue;
    for (const frame of frames) {
      const { timestampNs } = frame;
      if (timestampNs < startNs && timestampNs + frame.durationNs <= startNs) continue;
      let at = queue.length;
      while (at > 0 && (queue[at - 1]?.timestampNs ?? 0) > timestampNs) at--;
      if (at === queue.length) queue.push(frame);
      else queue.splice(at, 0, frame);
    }
  }

  /**
   * Copies the bytes of every queued frame that still borrows them: pushed frames may be views
   * into the source's shared-memory region, which the client rewrites once the source's next
   * data request goes out. Call it before that request; with nothing queued it does nothing.
   */
  ownQueuedFrames(): void {
    for (const [at, frame] of this.#queue.entries()) {
      if (this.#owned.has(frame)) continue;
      const copy = copyFrame(frame);
      this.#owned.add(copy);
      this.#queue[at] = copy;
    }
  }

  /** Hands a frame's clear bytes to the sink. */
  render(frame: MediaFrame, bytes: Uint8Array): void {
    this.#sink.render(bytes);
    this.lastEndNs = frame.timestampNs + frame.durationNs;
  }

  /** Counts a frame that was not rendered (late, or not decryptable). */
  drop(): void {
    this.#droppedFrames++;
  }

  /** Empties the queue and clears end of stream and the per-flush flags; counters stay. */
  flush(): void {
    this.#queue.length = 0;
    this.eos = false;
    this.firstFrameSent = false;
    this.underflowReported = false;
    this.lastEndNs = undefined;
  }

  /** The rendering counters (they survive flushes and seeks). */
  stats(): SourceStats {
    return { ...this.#sink.counters(), droppedFrames: this.#droppedFrames };
  }
}
