import { type MediaSourceStatus, RialtoError, toRialtoError } from "@rialto/protocol";
import type { AddSegmentStatus } from "./media-pipeline-requests.ts";
import type { MediaSegment } from "./media-pipeline-sources.ts";

/** What a {@link SourceFeeder} calls on its pipeline. */
export interface FeederTarget {
  addSegment(requestId: number, segment: MediaSegment): AddSegmentStatus;
  haveData(status: MediaSourceStatus, requestId: number): Promise<void>;
  /** True while `requestId` may still be answered (not voided by a seek, flush, stop, ...). */
  isOutstanding(requestId: number): boolean;
}

/** Options of `MediaPipeline.createSourceFeeder`. */
export interface SourceFeederOptions {
  /**
   * A seek (`setPosition(positionNs)`) is being sent: every queued sample was dropped and the
   * end of stream forgotten. Append the samples from the keyframe at or before `positionNs`
   * (and call `endOfStream()` again when they are the last); called before the seek leaves, so
   * they are ready when the pipeline asks after `SeekDone`.
   */
  readonly onSeek?: (positionNs: number) => void;
  /** This source was flushed (`flush(sourceId)`): queued samples dropped; append what comes next. */
  readonly onFlush?: () => void;
  /**
   * A problem the feeder cannot fix by itself: a sample the frame format refuses or one larger
   * than the source's region (both dropped), a `haveData` the session server refused (its
   * samples go again). Default: `console.error`, so nothing fails silently.
   */
  readonly onError?: (error: RialtoError) => void;
}

/** One needMediaData request waiting for samples. */
interface Request {
  readonly requestId: number;
  readonly frameCount: number;
}

/**
 * Push-style feeding of one source (what MSE's `appendBuffer` or GStreamer's appsrc give their
 * users): the app appends samples whenever it has them and says when they end; the feeder
 * answers each `needMediaData` of the source with the queued samples (`addSegment` until the
 * request is full or out of space, then `haveData`), keeps a request open while the queue is
 * empty and answers it on the next `append`, and sends `Eos` after the last sample. A seek
 * drops the queue and asks the app for the new position ({@link SourceFeederOptions.onSeek});
 * the app never writes the needMediaData loop. Created by `MediaPipeline.createSourceFeeder`.
 */
export class SourceFeeder implements Disposable {
  /** The source it feeds. */
  readonly sourceId: number;
  readonly #target: FeederTarget;
  readonly #options: SourceFeederOptions;
  readonly #onClose: () => void;
  #queue: MediaSegment[] = [];
  #head = 0;
  /** Samples of the answer in flight, sent again if the server refuses it. */
  #inFlight: MediaSegment[] = [];
  #request: Request | undefined;
  #answering = false;
  #endOfStream = false;
  #closed = false;
  #epoch = 0;
  #sent = 0;

  /** @internal Made by `MediaPipeline.createSourceFeeder`. */
  constructor(
    target: FeederTarget,
    sourceId: number,
    options: SourceFeederOptions,
    onClose: () => void,
  ) {
    this.#target = target;
    this.sourceId = sourceId;
    this.#options = options;
    this.#onClose = onClose;
  }

  /** Samples appended and not yet handed to the pipeline. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Samples handed to the pipeline since the feeder was made (or the last seek or flush). */
  get sent(): number {
    return this.#sent;
  }

  /** True after {@link endOfStream}, until a seek or flush. */
  get endOfStreamSet(): boolean {
    return this.#endOfStream;
  }

  /**
   * Queues samples of this source, in decode order (see `MediaSegment` for their format and
   * timestamps); they go out as the pipeline asks. `INVALID_STATE` after {@link endOfStream}
   * (until a seek or flush) or {@link close}.
   */
  append(samples: MediaSegment | readonly MediaSegment[]): void {
    this.#assertOpen("append");
    if (this.#endOfStream) {
      throw new RialtoError(
        "INVALID_STATE",
        `SourceFeeder.append: source ${this.sourceId} was told endOfStream(); seek or flush first`,
      );
    }
    if (Array.isArray(samples)) for (const sample of samples) this.#queue.push(sample);
    else this.#queue.push(samples as MediaSegment);
    this.#pump();
  }

  /** No samples follow the queued ones: the pipeline gets `Eos` after the last. */
  endOfStream(): void {
    this.#assertOpen("endOfStream");
    this.#endOfStream = true;
    this.#pump();
  }

  /** Stops feeding: queued samples are dropped, requests are no longer answered. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reset();
    this.#onClose();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal A needMediaData of this source. */
  requested(requestId: number, frameCount: number): void {
    if (this.#closed) return;
    this.#request = { requestId, frameCount };
    this.#pump();
  }

  /** @internal A seek to `positionNs` is about to be sent. */
  seeking(positionNs: number): void {
    if (this.#closed) return;
    this.#reset();
    this.#notify(() => this.#options.onSeek?.(positionNs));
  }

  /** @internal A flush of this source is about to be sent. */
  flushing(): void {
    if (this.#closed) return;
    this.#reset();
    this.#notify(() => this.#options.onFlush?.());
  }

  /** @internal The pipeline stopped, was destroyed or released, or the source removed. */
  ended(): void {
    this.close();
  }

  #reset(): void {
    this.#epoch++;
    this.#queue = [];
    this.#head = 0;
    this.#inFlight = [];
    this.#request = undefined;
    this.#endOfStream = false;
    this.#sent = 0;
  }

  #pump(): void {
    const request = this.#request;
    if (this.#closed || this.#answering || request === undefined) return;
    if (this.queued === 0 && !this.#endOfStream) return;
    this.#request = undefined;
    const { requestId, frameCount } = request;
    const written: MediaSegment[] = [];
    while (written.length < frameCount && this.#head < this.#queue.length) {
      const sample = this.#queue[this.#head] as MediaSegment;
      const status = this.#target.addSegment(requestId, sample);
      if (status === "NoSpace") break;
      if (status === "Error") {
        // Voided meanwhile (seek, flush, stop, app not Running): the next request comes anew.
        if (!this.#target.isOutstanding(requestId)) {
          this.#head -= written.length;
          return;
        }
        this.#drop(`the frame format refused the sample at ${sample.timestampNs} ns`);
        continue;
      }
      written.push(sample);
      this.#head++;
    }
    if (written.length === 0 && this.#head < this.#queue.length) {
      const sample = this.#queue[this.#head] as MediaSegment;
      this.#drop(
        `the sample at ${sample.timestampNs} ns (${sample.data.byteLength} bytes) does not fit the source's region of the AV shared memory`,
      );
    }
    this.#compact();
    const last = this.#endOfStream && this.queued === 0;
    const status: MediaSourceStatus = last
      ? "Eos"
      : written.length > 0
        ? "Ok"
        : "NoAvailableSamples";
    this.#answer(status, requestId, written);
  }

  #answer(status: MediaSourceStatus, requestId: number, written: MediaSegment[]): void {
    const epoch = this.#epoch;
    this.#answering = true;
    this.#inFlight = written;
    this.#sent += written.length;
    this.#target
      .haveData(status, requestId)
      .then(() => {
        if (epoch === this.#epoch) this.#inFlight = [];
      })
      .catch((error: unknown) => {
        if (epoch !== this.#epoch || this.#closed) return;
        const failure = toRialtoError(error);
        // A released or destroyed pipeline: nothing more to feed.
        if (failure.code === "INVALID_STATE" || failure.code === "NOT_FOUND") return this.close();
        // The server read nothing of this answer and asks again: the same samples go again.
        this.#sent -= this.#inFlight.length;
        this.#requeue(this.#inFlight);
        this.#inFlight = [];
        this.#report(failure);
      })
      .finally(() => {
        // Also after a seek: no answer of the new epoch could start while this one was out.
        this.#answering = false;
        this.#pump();
      });
  }

  /** Puts samples taken for an answer back at the head of the queue. */
  #requeue(samples: readonly MediaSegment[]): void {
    if (samples.length === 0) return;
    this.#queue = [...samples, ...this.#queue.slice(this.#head)];
    this.#head = 0;
  }

  #drop(why: string): void {
    this.#head++;
    this.#report(
      new RialtoError(
        "INVALID_ARGUMENT",
        `SourceFeeder of source ${this.sourceId}: ${why}; dropped`,
      ),
    );
  }

  /** Frees the sent part of the queue now and then (append stays amortised O(1)). */
  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #report(error: RialtoError): void {
    const onError =
      this.#options.onError ?? ((e: RialtoError) => console.error(`[rialto] ${e.message}`));
    this.#notify(() => onError(error));
  }

  #notify(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      console.error("[rialto] a SourceFeeder callback threw:", error);
    }
  }

  #assertOpen(method: string): void {
    if (this.#closed) {
      throw new RialtoError(
        "INVALID_STATE",
        `SourceFeeder.${method}: the feeder of source ${this.sourceId} is closed`,
      );
    }
  }
}
