import type { AddSegmentStatus, MediaPipelineEvents, MediaSegment } from "@rialto/client";
import { type MediaSourceStatus, RialtoError } from "@rialto/protocol";
import type { DemuxedSample, DemuxedTrack } from "./mp4/index.ts";

/** The pipeline calls a feeder makes (a `MediaPipeline` has them). */
export interface FeedTarget {
  addSegment(requestId: number, segment: MediaSegment): AddSegmentStatus;
  haveData(status: MediaSourceStatus, requestId: number): Promise<void>;
}

/** Turns a demuxed sample into the segment for `addSegment` (default: its bytes and times). */
export type SegmentOf = (sample: DemuxedSample, track: DemuxedTrack) => MediaSegment;

/** The default {@link SegmentOf}: bytes, times and codec-data changes of the sample. */
export const plainSegment: SegmentOf = (sample) => ({
  data: sample.data,
  timestampNs: sample.timestampNs,
  durationNs: sample.durationNs,
  ...(sample.codecData === undefined ? {} : { codecData: sample.codecData }),
});

/** A needMediaData request as the app sees it. */
export type DataRequest = MediaPipelineEvents["needMediaData"];

/**
 * Feeds one track to one source of a pipeline: answers each needMediaData with the next samples
 * (addSegment until the request is full, then haveData `Ok`, or `Eos` with the last sample).
 * Samples go in presentation order by default: the virtual renderer stands for what comes out of
 * the decoder, and for the H.264 / AAC of the demo clip that is also the decode order. A real
 * decoder (the GStreamer engine) needs them in decode order, as they are in the file (`order`).
 *
 * A request can be kept unanswered (`hold`, or `holdAt` a position) to starve the pipeline; a
 * rejected haveData (the server could not read the table) rewinds to the samples of that
 * answer, so they go again.
 */
export class SampleFeeder {
  readonly sourceId: number;
  readonly track: DemuxedTrack;
  /** The samples in the order they are fed. */
  readonly samples: readonly DemuxedSample[];
  readonly #target: FeedTarget;
  readonly #segmentOf: SegmentOf;
  #next = 0;
  #holdAtNs: number | undefined;
  #holding = false;
  #held: DataRequest | undefined;
  #bytes = 0;

  constructor(
    target: FeedTarget,
    sourceId: number,
    track: DemuxedTrack,
    segmentOf = plainSegment,
    order: "presentation" | "decode" = "presentation",
  ) {
    this.#target = target;
    this.sourceId = sourceId;
    this.track = track;
    this.samples = samplesInOrder(track, order);
    this.#segmentOf = segmentOf;
  }

  /** Samples handed over so far (since the last seek). */
  get fed(): number {
    return this.#next;
  }

  /**
   * Samples handed over so far that a renderer presents: priming samples (`discard`, wholly
   * before 0) are fed for the decoder and clipped, so they are never rendered nor dropped.
   */
  get fedPresented(): number {
    let count = 0;
    for (let i = 0; i < this.#next; i++) if (!this.samples[i]?.discard) count++;
    return count;
  }

  /** Bytes of the samples handed over so far. */
  get fedBytes(): number {
    return this.#bytes;
  }

  /** True once the last sample went out with `Eos`. */
  get done(): boolean {
    return this.#next >= this.samples.length;
  }

  /** True while a request is kept unanswered ({@link hold}, {@link holdAt}). */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** Answers one request (or keeps it while held). Rejects when the pipeline refused the answer. */
  async answer(request: DataRequest): Promise<void> {
    if (this.#holding || this.#atHoldPoint()) {
      this.#held = request;
      return;
    }
    const start = this.#next;
    const status = this.#write(request);
    try {
      await this.#target.haveData(status, request.requestId);
    } catch (error) {
      // The server read nothing of this answer and will ask again: send the same samples.
      this.#rewind(start);
      throw error;
    }
  }

  /** Stops answering: the next request is kept, unanswered, until {@link resume}. */
  hold(): void {
    this.#holding = true;
  }

  /** Feeds the samples before `positionNs`, then keeps the next request unanswered. */
  holdAt(positionNs: number): void {
    this.#holdAtNs = positionNs;
  }

  /** Answers the kept request, if any, and every later one. */
  async resume(): Promise<void> {
    this.#holding = false;
    this.#holdAtNs = undefined;
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) await this.answer(held);
  }

  /**
   * Restarts from `positionNs` (after a seek): video from the keyframe at or before it, audio
   * from the sample that contains it.
   */
  seek(positionNs: number): void {
    const index = Math.max(0, keyframeAt(this.track, this.samples, positionNs));
    this.#rewind(index);
    this.#held = undefined;
  }

  #write({ requestId, frameCount }: DataRequest): MediaSourceStatus {
    let written = 0;
    while (written < frameCount && this.#next < this.samples.length && !this.#atHoldPoint()) {
      const sample = this.samples[this.#next] as DemuxedSample;
      const status = this.#target.addSegment(requestId, this.#segmentOf(sample, this.track));
      if (status === "NoSpace") break;
      if (status === "Error") {
        throw new RialtoError(
          "INTERNAL",
          `addSegment refused sample ${this.#next} (${sample.timestampNs} ns) of ${this.track.type} track ${this.track.id}`,
        );
      }
      this.#next++;
      this.#bytes += sample.data.byteLength;
      written++;
    }
    if (this.done) return "Eos";
    return written === 0 ? "NoSpaceForSamples" : "Ok";
  }

  #atHoldPoint(): boolean {
    const next = this.samples[this.#next];
    return this.#holdAtNs !== undefined && next !== undefined && next.timestampNs >= this.#holdAtNs;
  }

  #rewind(index: number): void {
    this.#next = index;
    this.#bytes = 0;
    for (let i = 0; i < index; i++)
      this.#bytes += (this.samples[i] as DemuxedSample).data.byteLength;
  }
}

/** A track's samples in decode order (as stored) or presentation order. */
export function samplesInOrder(
  track: DemuxedTrack,
  order: "presentation" | "decode",
): readonly DemuxedSample[] {
  return order === "decode"
    ? track.samples
    : track.samples.toSorted((a, b) => a.timestampNs - b.timestampNs);
}

/** The index of the sample a feed restarts from for `positionNs`: the last keyframe at or before. */
export function keyframeAt(
  track: DemuxedTrack,
  samples: readonly DemuxedSample[],
  positionNs: number,
): number {
  return samples.findLastIndex(
    (s) => s.timestampNs <= positionNs && (track.type !== "video" || s.isSync),
  );
}
