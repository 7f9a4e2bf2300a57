import type { MediaPipeline, MediaSegment, MediaSourceConfig, RialtoClient } from "@rialto/client";
import type { DemuxedMovie, DemuxedTrack } from "../mp4/index.ts";

/** What to attach for a track: its MIME type, codec data and audio or video parameters. */
function sourceOf(track: DemuxedTrack): MediaSourceConfig {
  const { mimeType, codecData } = track;
  if (track.type === "audio") {
    const { sampleRate, channels } = track;
    return { type: "audio", mimeType, codecData, sampleRate, channels };
  }
  const { width, height } = track;
  return { type: "video", mimeType, codecData, width, height };
}

/** A track's samples from the keyframe at or before `fromNs` on, in decode order. */
function samplesFrom(track: DemuxedTrack, fromNs: number): MediaSegment[] {
  const start = track.samples.findLastIndex((s) => s.isSync && s.timestampNs <= fromNs);
  return track.samples
    .slice(Math.max(start, 0))
    .map((s) => ({ data: s.data, timestampNs: s.timestampNs, durationNs: s.durationNs }));
}

/** Plays a demuxed MP4; goes on by itself when the platform makes the app Inactive, then Active. */
export class Mp4Player {
  readonly ended: Promise<void>;
  #pipeline: MediaPipeline | undefined;
  #positionNs = 0;
  readonly #end = Promise.withResolvers<void>();

  constructor(
    readonly client: RialtoClient,
    readonly movie: DemuxedMovie,
  ) {
    this.ended = this.#end.promise;
    client.on("applicationState", (state) => {
      if (state === "Running" && this.#pipeline === undefined) this.play().catch(this.#end.reject);
    });
  }

  /** The pipeline playing now (none while the app is Inactive). */
  get pipeline(): MediaPipeline | undefined {
    return this.#pipeline;
  }

  /** The last position the pipeline reported, ns. */
  get positionNs(): number {
    return this.#positionNs;
  }

  /** Plays: from where it was, on a new pipeline when it has none. */
  async play(): Promise<void> {
    if (this.#pipeline !== undefined) return this.#pipeline.play();
    const pipeline = await this.client.createMediaPipeline();
    this.#pipeline = pipeline;
    pipeline.on("position", ({ positionNs }) => (this.#positionNs = positionNs));
    pipeline.on("playbackError", ({ message }) => this.#end.reject(new Error(message)));
    pipeline.on("playbackState", ({ state }) => state === "EndOfStream" && this.#end.resolve());
    pipeline.on("released", () => (this.#pipeline = undefined)); // the app went Inactive
    await pipeline.load({ mimeType: "video/mp4" });
    for (const track of this.movie.tracks) {
      const sourceId = await pipeline.attachSource(sourceOf(track));
      const feed = (fromNs: number) => {
        feeder.append(samplesFrom(track, fromNs));
        feeder.endOfStream();
      };
      const feeder = pipeline.createSourceFeeder(sourceId, { onSeek: feed });
      feed(this.#positionNs);
    }
    await pipeline.allSourcesAttached();
    if (this.#positionNs > 0) await pipeline.setPosition(this.#positionNs);
    await pipeline.play();
  }

  /** Pauses; {@link play} goes on. */
  pause(): Promise<void> {
    return this.#pipeline?.pause() ?? Promise.resolve();
  }

  /** Seeks to `positionNs`; the feeders start again from the keyframe before it. */
  seek(positionNs: number): Promise<void> {
    this.#positionNs = positionNs;
    return this.#pipeline?.setPosition(positionNs) ?? Promise.resolve();
  }
}
