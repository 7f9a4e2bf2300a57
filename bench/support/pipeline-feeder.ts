import type { MediaPipeline, MediaPipelineEvents, RialtoClient } from "@rialto/client";
import type { SourceStats } from "@rialto/protocol";

type DataRequest = MediaPipelineEvents["needMediaData"];

/** 60 frames per second. */
const FRAME_DURATION_NS = 16_666_667;
/** Generous on a loaded 2-core machine; a stuck pipeline still fails the run. */
const BLOCK_DEADLINE_MS = 60_000;

/**
 * A playing pipeline with one video source, fed with frames of one size by answering every
 * needMediaData (addSegment until the request is full, then haveData `Ok`), in blocks: between
 * blocks the next request is kept unanswered, so a benchmark can measure something else under
 * the same machine load and then go on. Destroyed on dispose.
 */
export class PipelineFeeder implements AsyncDisposable {
  readonly pipeline: MediaPipeline;
  readonly sourceId: number;
  /** Frames and bytes accepted by haveData so far. */
  framesFed = 0;
  bytesFed = 0;
  /** Time from one needMediaData to the next while feeding, µs (for the table's cycle time). */
  readonly cycles: number[] = [];
  readonly #frame: Uint8Array;
  #timestampNs = 0;
  /** Frames this block still feeds; a request that comes when it is 0 is kept. */
  #budget = 0;
  #held: DataRequest | undefined;
  #lastRequestNs: number | undefined;
  #blockEnded: PromiseWithResolvers<void> | undefined;

  private constructor(pipeline: MediaPipeline, sourceId: number, frameBytes: number) {
    this.pipeline = pipeline;
    this.sourceId = sourceId;
    this.#frame = new Uint8Array(frameBytes).fill(0xa5);
  }

  /**
   * A pipeline of `client` (Running) with one 1920x1080 video source of `frameBytes`-byte
   * frames, prerolled and playing; the first request after `play` is kept for the first block.
   */
  static async start(client: RialtoClient, frameBytes: number): Promise<PipelineFeeder> {
    const pipeline = await client.createMediaPipeline({ maxWidth: 1920, maxHeight: 1080 });
    try {
      await pipeline.load({ mimeType: 'video/mp4; codecs="avc1.640028"' });
      const sourceId = await pipeline.attachSource({
        type: "video",
        mimeType: "video/h264",
        width: 1920,
        height: 1080,
      });
      const feeder = new PipelineFeeder(pipeline, sourceId, frameBytes);
      pipeline.on("needMediaData", (request) => feeder.#onRequest(request));
      // Preroll takes one request of 3 frames; the request after it is kept.
      const prerolled = feeder.#block(3);
      await pipeline.allSourcesAttached();
      await prerolled;
      await pipeline.play();
      return feeder;
    } catch (error) {
      await pipeline.destroy();
      throw error;
    }
  }

  /**
   * Feeds `frames` frames (the kept request first), then keeps the request that follows the
   * last answer: by then the server has rendered what it asked for. Resolves with the block's
   * duration in ns.
   */
  async feed(frames: number): Promise<number> {
    const start = Bun.nanoseconds();
    await this.#block(frames);
    return Bun.nanoseconds() - start;
  }

  /** The server's counters of the source. */
  stats(): Promise<SourceStats> {
    return this.pipeline.getStats(this.sourceId);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#budget = 0;
    await this.pipeline.destroy();
  }

  #block(frames: number): Promise<void> {
    this.#budget = frames;
    this.#lastRequestNs = undefined;
    const ended = Promise.withResolvers<void>();
    this.#blockEnded = ended;
    const timer = setTimeout(
      () =>
        ended.reject(
          new Error(`pipeline feed of ${frames} frames not done within ${BLOCK_DEADLINE_MS} ms`),
        ),
      BLOCK_DEADLINE_MS,
    );
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) this.#onRequest(held);
    return ended.promise.finally(() => clearTimeout(timer));
  }

  #onRequest(request: DataRequest): void {
    const now = Bun.nanoseconds();
    if (this.#lastRequestNs !== undefined) this.cycles.push((now - this.#lastRequestNs) / 1000);
    if (this.#budget <= 0) {
      this.#held = request;
      this.#blockEnded?.resolve();
      return;
    }
    this.#lastRequestNs = now;
    this.#answer(request).catch((error) => this.#blockEnded?.reject(error));
  }

  async #answer({ requestId, frameCount }: DataRequest): Promise<void> {
    const frames = Math.min(frameCount, this.#budget);
    for (let i = 0; i < frames; i++) {
      const status = this.pipeline.addSegment(requestId, {
        data: this.#frame,
        timestampNs: this.#timestampNs,
        durationNs: FRAME_DURATION_NS,
      });
      if (status !== "Ok") {
        throw new Error(`addSegment of frame ${i} of request ${requestId} answered ${status}`);
      }
      this.#timestampNs += FRAME_DURATION_NS;
    }
    this.#budget -= frames;
    await this.pipeline.haveData("Ok", requestId);
    this.framesFed += frames;
    this.bytesFed += frames * this.#frame.byteLength;
  }
}
