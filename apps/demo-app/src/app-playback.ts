import { RialtoError } from "@rialto/protocol";
import { ClipPlayer, type PlaybackEnd, type SourceOutcome } from "./clip-player.ts";
import type { DemoApp } from "./demo-app-session.ts";
import type { LifecycleTimeline } from "./lifecycle-timeline.ts";
import { type DemuxedMovie, presentedSamples } from "./mp4/index.ts";
import type { ProgressLine, ProgressSnapshot } from "./progress-line.ts";
import type { SegmentOf } from "./sample-feeder.ts";

/** Options of {@link playOnApp}. */
export interface AppPlaybackOptions {
  readonly timeline: LifecycleTimeline;
  readonly progress: ProgressLine;
  /** Builds each segment (e.g. with encryption info); default bytes and times. */
  readonly segmentOf?: SegmentOf;
  /** Feed samples in decode order (an engine that decodes); default presentation order. */
  readonly decodeOrder?: boolean;
  /**
   * Runs beside the playback, started just before `play` (e.g. the app switch of `--switch`);
   * the playback goes on until it ends or the session server releases the pipeline.
   */
  readonly alongside?: (player: ClipPlayer, checkpoint: Checkpoint) => Promise<void>;
}

/**
 * Reads every source's counters and the position from the session server; they become the
 * progress line's and the result's (so a playback cut short reports what it had rendered).
 */
export type Checkpoint = () => Promise<readonly SourceOutcome[]>;

/** How one app's playback went. */
export interface AppPlaybackResult {
  readonly end: PlaybackEnd;
  /** The last counters read from the session server (at the end, or before the release). */
  readonly outcomes: readonly SourceOutcome[];
  /** Wall-clock time from `play` to the end, ms. */
  readonly elapsedMs: number;
}

/** The deadline of a whole playback: three times the movie in real time, plus slack. */
function playbackDeadlineMs(movie: DemuxedMovie): number {
  return (movie.durationNs / 1e6) * 3 + 20_000;
}

/**
 * Plays `movie` on a pipeline of `app`'s client with a live progress line, its playback
 * states in the timeline, until EndOfStream (counters read, pipeline destroyed) or until the
 * session server releases the pipeline.
 */
export async function playOnApp(
  app: DemoApp,
  movie: DemuxedMovie,
  options: AppPlaybackOptions,
): Promise<AppPlaybackResult> {
  const { timeline, progress } = options;
  const actor = `pipeline ${app.appId}`;
  const totalFrames = movie.tracks.reduce((sum, t) => sum + presentedSamples(t.samples).length, 0);
  let outcomes: readonly SourceOutcome[] = [];
  let snapshot: ProgressSnapshot = {
    positionNs: 0,
    durationNs: movie.durationNs,
    frames: 0,
    totalFrames,
    bytes: 0,
  };
  let player: ClipPlayer | undefined;
  const checkpoint = async (): Promise<readonly SourceOutcome[]> => {
    if (player === undefined) return outcomes;
    const read = await player.outcomes();
    const positionNs = await player.pipeline.getPosition();
    outcomes = read;
    snapshot = {
      ...snapshot,
      positionNs,
      frames: read.reduce((sum, o) => sum + o.stats.renderedFrames, 0),
      bytes: read.reduce((sum, o) => sum + o.stats.renderedBytes, 0),
    };
    return read;
  };
  let polling = false;
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      await checkpoint();
      progress.update(snapshot);
    } catch {
      // The pipeline is being released; the end of the playback tells the rest.
    } finally {
      polling = false;
    }
  };
  player = await ClipPlayer.open(app.client, movie, {
    segmentOf: options.segmentOf,
    decodeOrder: options.decodeOrder,
    // An app with all its samples hands them to the client's push-style feeder; the app switch
    // steers its feeders (holds them at the middle), so it feeds request by request.
    feeding: options.alongside === undefined ? "push" : "pull",
    onState: (state) => timeline.record(actor, `playbackState ${state}`),
    onPosition: () => void poll(),
  });
  player.pipeline.on("released", () => timeline.record(actor, "released by the session server"));
  const started = performance.now();
  timeline.record(actor, "play()");
  // Started before play, so it can prepare the feeders (its synchronous start runs first).
  const alongside = options.alongside?.(player, checkpoint);
  await player.play();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    const ms = playbackDeadlineMs(movie);
    timer = setTimeout(
      () => reject(new RialtoError("TIMEOUT", `playback did not end within ${ms} ms`)),
      ms,
    );
  });
  const end = await Promise.race([player.ended, deadline]).finally(() => clearTimeout(timer));
  const elapsedMs = performance.now() - started;
  await alongside;
  if (end === "EndOfStream") {
    await checkpoint();
    timeline.record(actor, "destroy()");
    await player[Symbol.asyncDispose]();
  }
  progress.finish(snapshot);
  return { end, outcomes, elapsedMs };
}
