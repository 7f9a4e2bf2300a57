import type { NeedMediaDataEvent, ShmRegion } from "@rialto/protocol";
import { FrameWriter } from "@rialto/shm";
import {
  type MediaSegment,
  type MediaSourceConfig,
  toMediaFrame,
} from "./media-pipeline-sources.ts";

/** What `MediaPipeline.addSegment` says of one segment (Rialto's AddSegmentStatus). */
export type AddSegmentStatus = "Ok" | "NoSpace" | "Error";

/** One needMediaData request the app may still answer. */
interface OutstandingRequest {
  readonly requestId: number;
  readonly sourceId: number;
  readonly frameCount: number;
  readonly region: ShmRegion;
  /** Created by the first addSegment (creating one resets the region's table). */
  writer: FrameWriter | undefined;
}

/**
 * The client's side of needMediaData (SPEC 8): the requests of one pipeline the app may still
 * answer (at most one per source: a new one voids the source's previous one), and the frame
 * writers that put `addSegment`'s samples straight into each request's region of the AV
 * shared memory. Seeks and flushes drop requests before they are sent, so nothing is written
 * for a request the server has already voided.
 */
export class NeedDataRequests {
  readonly #requests = new Map<number, OutstandingRequest>();

  /** Records a request (voiding the source's previous one). */
  accept({ requestId, sourceId, frameCount, region }: NeedMediaDataEvent): void {
    this.dropSource(sourceId);
    this.#requests.set(requestId, { requestId, sourceId, frameCount, region, writer: undefined });
  }

  /** True while `requestId` may be answered. */
  has(requestId: number): boolean {
    return this.#requests.has(requestId);
  }

  /**
   * Writes `segment` (of the source `sourceConfig` names) into the request's region of `memory`
   * (the whole AV mapping): `Ok`; `NoSpace` when the request already holds `frameCount` frames
   * or the bytes do not fit (keep the segment for the next request); `Error` for an unknown or
   * voided request, no mapping, a region outside the mapping, or a segment the frame format
   * refuses.
   */
  addSegment(
    requestId: number,
    segment: MediaSegment,
    sourceConfig: (sourceId: number) => MediaSourceConfig | undefined,
    memory: Uint8Array | undefined,
  ): AddSegmentStatus {
    const request = this.#requests.get(requestId);
    if (request === undefined || memory === undefined) return "Error";
    const source = sourceConfig(request.sourceId);
    if (source === undefined) return "Error";
    try {
      request.writer ??= this.#writerFor(request, memory);
      if (request.writer === undefined) return "Error";
      const frame = toMediaFrame(segment, request.sourceId, source);
      return request.writer.write(frame) === "ok" ? "Ok" : "NoSpace";
    } catch {
      // A segment the frame format refuses (bad timestamp, subsamples), or the mapping is gone.
      return "Error";
    }
  }

  /** Removes the request and returns how many frames were written for it; undefined when stale. */
  take(requestId: number): { sourceId: number; numFrames: number } | undefined {
    const request = this.#requests.get(requestId);
    if (request === undefined) return undefined;
    this.#requests.delete(requestId);
    return { sourceId: request.sourceId, numFrames: request.writer?.frameCount ?? 0 };
  }

  /** Voids the request of one source (flush, removal). */
  dropSource(sourceId: number): void {
    for (const [id, request] of this.#requests) {
      if (request.sourceId === sourceId) this.#requests.delete(id);
    }
  }

  /** Voids every request (seek, stop, release). */
  dropAll(): void {
    this.#requests.clear();
  }

  #writerFor(request: OutstandingRequest, memory: Uint8Array): FrameWriter | undefined {
    const { offset, length } = request.region;
    if (offset + length > memory.byteLength) return undefined;
    return new FrameWriter(memory.subarray(offset, offset + length), {
      maxFrames: request.frameCount,
    });
  }
}
