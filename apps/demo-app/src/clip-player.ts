import type { MediaPipeline, MediaSourceConfig, RialtoClient, SourceFeeder } from "@rialto/client";
import { type PlaybackState, RialtoError, type SourceStats, toRialtoError } from "@rialto/protocol";
import type { DemuxedMovie, DemuxedSample, DemuxedTrack } from "./mp4/index.ts";
import {
  type FeedTarget,
  keyframeAt,
  plainSegment,
  SampleFeeder,
  type SegmentOf,
  samplesInOrder,
} from "./sample-feeder.ts";

/** How a playback ended: every source drained, or the session server took the pipeline away. */
export type PlaybackEnd = "EndOfStream" | "released";

/** Options of {@link ClipPlayer.open}. */
export interface ClipPlayerOptions {
  /** Builds each segment from a sample (e.g. with encryption info); default bytes and times. */
  readonly segmentOf?: SegmentOf;
  /**
   * Feed samples in decode order (as stored), for an engine that decodes them; default false:
   * presentation order, for the virtual engine, which renders what it is given in that order.
   */
  readonly decodeOrder?: boolean;
  /** Every playback state the pipeline reports. */
  readonly onState?: (state: PlaybackState) => void;
  /** Every position the pipeline reports, ns. */
  readonly onPosition?: (positionNs: number) => void;
  /** A haveData the server refused; default: the playback fails with it. */
  readonly onFeedError?: (error: unknown) => void;
  /**
   * How samples reach the pipeline: `pull` (default), a {@link SampleFeeder} per source answers
   * each needMediaData (tests hold and steer it); `push`, the client's own `SourceFeeder` is
   * given every sample up front and answers by itself, as an app that has its samples would do.
   */
  readonly feeding?: "pull" | "push";
  /**
   * What the feeders call; default the pipeline itself (a test may put something in between,
   * e.g. one that damages a frame table before answering).
   */
  readonly feedTarget?: (pipeline: MediaPipeline) => FeedTarget;
}

/** One source's outcome: what was fed and what the session server says it rendered. */
export interface SourceOutcome {
  readonly track: DemuxedTrack;
  readonly sourceId: number;
  /** Samples the feeder handed over (since the last seek) that a renderer presents. */
  readonly fed: number;
  readonly stats: SourceStats;
}

/**
 * The source config of a track: MIME type, codec data, its audio or video parameters, and
 * `hasDrm` when its samples are encrypted.
 */
export function sourceConfigOf(track: DemuxedTrack): MediaSourceConfig {
  const drm = track.scheme === undefined ? {} : { hasDrm: true };
  return track.type === "video"
    ? {
        type: "video",
        mimeType: track.mimeType,
        codecData: track.codecData,
        width: track.width,
        height: track.height,
        ...drm,
      }
    : {
        type: "audio",
        mimeType: track.mimeType,
        codecData: track.codecData,
        sampleRate: track.sampleRate,
        channels: track.channels,
        ...drm,
      };
}

/**
 * Plays a demuxed movie on a media pipeline of `client`: one source per track with its codec
 * data, a {@link SampleFeeder} answering each needMediaData, `play`, and {@link ended} once the
 * pipeline reaches EndOfStream (or is released by the session server). A playback error or a
 * `Failure` state rejects {@link ended}.
 */
export class ClipPlayer implements AsyncDisposable {
  readonly pipeline: MediaPipeline;
  readonly movie: DemuxedMovie;
  /** Resolves with how the playback ended. */
  readonly ended: Promise<PlaybackEnd>;
  readonly #feeders = new Map<number, SampleFeeder>();
  /** Sources fed by the client's push-style feeder, with the samples in the order given. */
  readonly #pushed = new Map<
    number,
    { track: DemuxedTrack; samples: readonly DemuxedSample[]; feeder: SourceFeeder }
  >();
  readonly #end = Promise.withResolvers<PlaybackEnd>();

  private constructor(pipeline: MediaPipeline, movie: DemuxedMovie) {
    this.pipeline = pipeline;
    this.movie = movie;
    this.ended = this.#end.promise;
    // Whoever awaits `ended` sees the failure; nobody awaiting must not crash the process.
    this.ended.catch(() => {});
  }

  /** Creates a pipeline of `client` and prepares it with {@link ClipPlayer.attach}. */
  static async open(
    client: RialtoClient,
    movie: DemuxedMovie,
    options: ClipPlayerOptions = {},
  ): Promise<ClipPlayer> {
    const video = movie.tracks.find((t) => t.type === "video");
    const pipeline = await client.createMediaPipeline(
      video?.type === "video" ? { maxWidth: video.width, maxHeight: video.height } : {},
    );
    try {
      return await ClipPlayer.attach(pipeline, movie, options);
    } catch (error) {
      await pipeline.destroy().catch(() => {});
      throw error;
    }
  }

  /** Loads `pipeline`, attaches every track of `movie` and says all sources are attached. */
  static async attach(
    pipeline: MediaPipeline,
    movie: DemuxedMovie,
    options: ClipPlayerOptions = {},
  ): Promise<ClipPlayer> {
    const player = new ClipPlayer(pipeline, movie);
    await player.#prepare(options);
    return player;
  }

  /** The pull feeders, one per source (none with `feeding: "push"`). */
  get feeders(): SampleFeeder[] {
    return [...this.#feeders.values()];
  }

  /** The feeder of one track type. */
  feeder(type: DemuxedTrack["type"]): SampleFeeder | undefined {
    return this.feeders.find((f) => f.track.type === type);
  }

  /** Plays (from now, or once prerolled). */
  play(): Promise<void> {
    return this.pipeline.play();
  }

  /** Seeks every source to `positionNs` (the feeders restart at the sample before it). */
  async seek(positionNs: number): Promise<void> {
    for (const feeder of this.#feeders.values()) feeder.seek(positionNs);
    await this.pipeline.setPosition(positionNs);
  }

  /** Rendering counters of every source, from the session server. */
  async outcomes(): Promise<SourceOutcome[]> {
    const outcomes: SourceOutcome[] = [];
    for (const feeder of this.#feeders.values()) {
      const { sourceId, track, fedPresented: fed } = feeder;
      outcomes.push({ track, sourceId, fed, stats: await this.pipeline.getStats(sourceId) });
    }
    for (const [sourceId, { track, samples, feeder }] of this.#pushed) {
      const fed = samples.slice(0, feeder.sent).filter((s) => !s.discard).length;
      outcomes.push({ track, sourceId, fed, stats: await this.pipeline.getStats(sourceId) });
    }
    return outcomes;
  }

  /** Destroys the pipeline (nothing happens if the server already freed it). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.pipeline.destroy();
  }

  async #prepare(options: ClipPlayerOptions): Promise<void> {
    const { pipeline } = this;
    const fail = (error: unknown) => this.#end.reject(toRialtoError(error));
    const onFeedError = options.onFeedError ?? fail;
    pipeline.on("needMediaData", (request) => {
      const feeder = this.#feeders.get(request.sourceId);
      feeder?.answer(request).catch(onFeedError);
    });
    pipeline.on("playbackState", ({ state }) => {
      options.onState?.(state);
      if (state === "EndOfStream") this.#end.resolve("EndOfStream");
      if (state === "Failure") fail(new RialtoError("INTERNAL", "the pipeline failed"));
    });
    pipeline.on("position", ({ positionNs }) => options.onPosition?.(positionNs));
    pipeline.on("playbackError", ({ sourceId, error, message }) =>
      fail(
        new RialtoError("INTERNAL", `playback error (${error}) on source ${sourceId}: ${message}`),
      ),
    );
    pipeline.on("released", () => this.#end.resolve("released"));
    const target = options.feedTarget?.(pipeline) ?? pipeline;
    const codecs = this.movie.tracks.map((t) => t.codec).join(",");
    await pipeline.load({ mimeType: `video/mp4; codecs="${codecs}"`, url: "mse://demo" });
    const order = options.decodeOrder === true ? "decode" : "presentation";
    const segmentOf = options.segmentOf ?? plainSegment;
    for (const track of this.movie.tracks) {
      const sourceId = await pipeline.attachSource(sourceConfigOf(track));
      if (options.feeding === "push") {
        this.#push(sourceId, track, order, segmentOf, fail);
        continue;
      }
      this.#feeders.set(
        sourceId,
        new SampleFeeder(
          target,
          sourceId,
          track,
          options.segmentOf ?? plainSegment,
          options.decodeOrder === true ? "decode" : "presentation",
        ),
      );
    }
    await pipeline.allSourcesAttached();
  }

  /** Gives every sample of `track` to a push-style feeder; after a seek, those from the keyframe. */
  #push(
    sourceId: number,
    track: DemuxedTrack,
    order: "presentation" | "decode",
    segmentOf: SegmentOf,
    fail: (error: unknown) => void,
  ): void {
    const samples = samplesInOrder(track, order);
    const appendFrom = (index: number) => {
      feeder.append(samples.slice(index).map((sample) => segmentOf(sample, track)));
      feeder.endOfStream();
    };
    const feeder = this.pipeline.createSourceFeeder(sourceId, {
      onSeek: (positionNs) => appendFrom(Math.max(0, keyframeAt(track, samples, positionNs))),
      onError: fail,
    });
    this.#pushed.set(sourceId, { track, samples, feeder });
    appendFrom(0);
  }
}
