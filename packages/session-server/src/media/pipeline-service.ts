import {
  describeValue,
  type HaveDataParams,
  PipelineEvents,
  type PlaybackOptions,
  RialtoError,
  type ShmRegion,
  type SourceId,
  toRialtoError,
} from "@rialto/protocol";
import {
  type AvRegion,
  FrameWriter,
  type MediaFrame,
  type MediaKind,
  type PlaybackPartition,
  readFrames,
  ShmError,
} from "@rialto/shm";
import { type ClockTimer, type MediaClock, systemClock } from "./media-clock.ts";
import type {
  DataRequest,
  EmitEvent,
  FrameDecryptor,
  MediaEngine,
  Pipeline,
} from "./media-engine.ts";
import { NeedDataBackoff } from "./need-data-backoff.ts";

/** Largest needMediaData request id (a u32, as in Rialto); ids wrap to 1 after it. */
const MAX_REQUEST_ID = 0xffff_ffff;

/** What a {@link PipelineService} is built from. */
export interface PipelineServiceOptions {
  /** The wire handle of the pipeline. */
  readonly pipelineId: number;
  /** The back end that creates the pipeline. */
  readonly engine: MediaEngine;
  /** The pipeline's clock and sink. */
  readonly playback: PlaybackOptions;
  /** The whole AV shared-memory mapping, server side. */
  readonly memory: Uint8Array;
  /** This pipeline's partition of it (`computeAvBufferLayout` of @rialto/shm). */
  readonly partition: PlaybackPartition;
  /** Sends a wire event to the client that owns the pipeline (e.g. `RpcPeer.emit`). */
  readonly emit: EmitEvent;
  /** Timers of the re-request back-off; default the system clock. */
  readonly clock?: MediaClock;
  /** Decrypts encrypted frames before rendering. */
  readonly decrypt?: FrameDecryptor;
  /** Whether the client's application state is Running at the start; default true. */
  readonly applicationRunning?: boolean;
}

/**
 * What became of a haveData answer: its frames went to the pipeline (`accepted`), it carried
 * none and the request is asked again after a back-off (`retrying`), or it answered a request
 * that is no longer outstanding and was ignored (`stale`: after a seek, flush or app-state
 * change, or a repeat; Rialto answers these with success too).
 */
export type HaveDataOutcome = "accepted" | "retrying" | "stale";

/** A region of the source's kind: as the client names it, and the server's view of it. */
interface SourceRegion {
  readonly wire: ShmRegion;
  readonly bytes: Uint8Array;
}

/** One data request of the pipeline, from `needData` until frames (or a cancel) answer it. */
interface Feed {
  readonly request: DataRequest;
  readonly region: SourceRegion;
  readonly backoff: NeedDataBackoff;
  /** The needMediaData id the client may answer; undefined while none is out. */
  requestId: number | undefined;
  retry: ClockTimer | undefined;
}

/**
 * The data side of one pipeline (SPEC 8, Rialto's needMediaData/haveData): creates the
 * engine's pipeline, forwards its events to the client, turns each data request into a
 * `pipeline/needMediaData` naming the source's region of the AV partition, and reads the
 * frames of `pipeline/haveData` from that region with the bounds-checked frame reader. A bad
 * table fails that one answer (`INVALID_ARGUMENT`) and the request is asked again; nothing a
 * client writes can throw anything else.
 */
export class PipelineService implements AsyncDisposable {
  /** The engine's pipeline; control calls (play, pause, setPosition, ...) go straight to it. */
  readonly pipeline: Pipeline;
  readonly #pipelineId: number;
  readonly #emit: EmitEvent;
  readonly #clock: MediaClock;
  readonly #regions: Readonly<Record<MediaKind, SourceRegion>>;
  readonly #feeds = new Map<SourceId, Feed>();
  #running: boolean;
  #nextRequestId = 1;

  constructor(options: PipelineServiceOptions) {
    this.#pipelineId = options.pipelineId;
    this.#emit = options.emit;
    this.#clock = options.clock ?? systemClock;
    this.#running = options.applicationRunning ?? true;
    const { memory, partition } = options;
    const region = (kind: MediaKind, { offset, length }: AvRegion): SourceRegion => {
      if (offset + length > memory.byteLength) {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `PipelineService: the ${kind} region ${offset}+${length} of partition ${partition.index} is outside the ${memory.byteLength}-byte AV memory`,
        );
      }
      return { wire: { offset, length }, bytes: memory.subarray(offset, offset + length) };
    };
    this.#regions = {
      video: region("video", partition.video),
      audio: region("audio", partition.audio),
      subtitle: region("subtitle", partition.subtitle),
    };
    this.pipeline = options.engine.createPipeline({
      pipelineId: options.pipelineId,
      playback: options.playback,
      decrypt: options.decrypt,
      listener: {
        emit: options.emit,
        needData: (request) => this.#needData(request),
        cancelData: (sourceId) => this.#cancel(sourceId),
      },
    });
  }

  /**
   * Handles `pipeline/haveData`. `Ok` and `NoSpaceForSamples` hand the frames to the pipeline,
   * `Eos` also ends the source; `Error`, `CodecChanged`, `NoAvailableSamples` and `Ok` with no
   * frames ask again after the back-off (15 ms doubling, below 500 ms).
   *
   * @throws RialtoError `INVALID_ARGUMENT` for another pipeline's id, or when the frames cannot
   *   be read: a malformed or out-of-bounds table, more frames than requested or written, a
   *   frame of another source or kind. The request is then asked again after the back-off.
   */
  haveData(params: HaveDataParams): HaveDataOutcome {
    if (params.pipelineId !== this.#pipelineId) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `pipeline/haveData: pipeline ${describeValue(params.pipelineId)} is not pipeline ${this.#pipelineId}`,
      );
    }
    const feed = this.#feedAsked(params.requestId);
    if (feed === undefined) return "stale";
    feed.requestId = undefined;
    const { status } = params;
    if (status === "Error" || status === "CodecChanged" || status === "NoAvailableSamples") {
      this.#retry(feed);
      return "retrying";
    }
    let frames: MediaFrame[];
    try {
      frames = this.#read(feed, params);
    } catch (error) {
      this.#retry(feed);
      throw error;
    }
    const last = status === "Eos";
    if (frames.length === 0 && !last) {
      this.#retry(feed);
      return "retrying";
    }
    const { sourceId } = feed.request;
    this.#feeds.delete(sourceId);
    if (frames.length > 0) this.pipeline.pushFrames(sourceId, frames, last);
    else this.pipeline.endOfStream(sourceId);
    return "accepted";
  }

  /**
   * The client's application state changed. While it is not Running no needMediaData is sent
   * and answers to earlier ones are stale; back to Running, every waiting request goes out anew.
   */
  setApplicationRunning(running: boolean): void {
    this.#running = running;
    for (const feed of this.#feeds.values()) {
      if (!running) feed.requestId = undefined;
      else if (feed.requestId === undefined && feed.retry === undefined) this.#issue(feed);
    }
  }

  /** Destroys the pipeline and cancels every back-off timer. Idempotent. */
  close(): void {
    for (const feed of this.#feeds.values()) feed.retry?.cancel();
    this.#feeds.clear();
    this.pipeline.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #needData(request: DataRequest): void {
    this.#cancel(request.sourceId);
    const feed: Feed = {
      request,
      region: this.#regions[request.kind],
      backoff: new NeedDataBackoff(),
      requestId: undefined,
      retry: undefined,
    };
    this.#feeds.set(request.sourceId, feed);
    this.#issue(feed);
  }

  #cancel(sourceId: SourceId): void {
    this.#feeds.get(sourceId)?.retry?.cancel();
    this.#feeds.delete(sourceId);
  }

  /** Sends needMediaData for the feed, unless the app is not Running (then it waits). */
  #issue(feed: Feed): void {
    if (!this.#running) return;
    const requestId = this.#allocateRequestId();
    const { sourceId, frameCount } = feed.request;
    // An empty table: an answer that claims frames the client never wrote reads none.
    new FrameWriter(feed.region.bytes, { maxFrames: frameCount });
    feed.requestId = requestId;
    this.#emit(PipelineEvents.needMediaData, {
      pipelineId: this.#pipelineId,
      sourceId,
      requestId,
      frameCount,
      region: feed.region.wire,
    });
  }

  #retry(feed: Feed): void {
    feed.retry = this.#clock.setTimer(feed.backoff.next(), () => {
      feed.retry = undefined;
      this.#issue(feed);
    });
  }

  /** The feed whose outstanding needMediaData has this id (one feed per source: a few). */
  #feedAsked(requestId: number): Feed | undefined {
    for (const feed of this.#feeds.values()) if (feed.requestId === requestId) return feed;
    return undefined;
  }

  #allocateRequestId(): number {
    for (;;) {
      const id = this.#nextRequestId;
      this.#nextRequestId = id === MAX_REQUEST_ID ? 1 : id + 1;
      if (this.#feedAsked(id) === undefined) return id;
    }
  }

  /**
   * Reads and checks the answered frames, whose bytes stay views into the region (the pipeline
   * copies what it still holds before it asks the source for more); a bad table is
   * `INVALID_ARGUMENT`.
   */
  #read(feed: Feed, { requestId, numFrames }: HaveDataParams): MediaFrame[] {
    const { sourceId, kind, frameCount } = feed.request;
    const refuse = (problem: string, cause?: unknown): never => {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `pipeline/haveData: request ${requestId} (pipeline ${this.#pipelineId}, source ${sourceId}): ${problem}`,
        { cause },
      );
    };
    if (numFrames > frameCount) refuse(`${numFrames} frames answer a request for ${frameCount}`);
    if (numFrames === 0) return [];
    let table: MediaFrame[] = [];
    try {
      table = readFrames(feed.region.bytes, { maxFrames: frameCount });
    } catch (error) {
      if (!(error instanceof ShmError)) throw toRialtoError(error);
      refuse(error.message, error);
    }
    if (table.length < numFrames) {
      refuse(`haveData says ${numFrames} frames; the table holds ${table.length}`);
    }
    table.length = numFrames;
    table.forEach((frame, index) => {
      if (frame.sourceId !== sourceId) refuse(`frame ${index} names source ${frame.sourceId}`);
      if (frame.kind !== kind) refuse(`frame ${index} is ${frame.kind}; the source is ${kind}`);
    });
    return table;
  }
}
