import Type, { type Static } from "typebox";
import { PlaybackState } from "./media-pipeline-events.ts";
import { PipelineId } from "./media-source.ts";
import { Closed, Count, Nanoseconds } from "./primitives.ts";

/**
 * What a session server tells its manager about its media work (`control/stats`), so the
 * manager can export it (`/metrics`, the web monitor) without asking every app. It is sent at
 * most every `STATS_INTERVAL_MS` and only when something changed since the last report: an app
 * that plays nothing sends nothing. Counters are totals since the session server started (or,
 * per pipeline, since the pipeline was created); a manager turns them into rising counters.
 */

/** Shortest time between two reports of one session server, ms. */
export const STATS_INTERVAL_MS = 500;

/** Largest number of pipelines one report carries (`maxPlaybackSessions` is at most 16). */
export const MAX_REPORTED_PIPELINES = 16;

/** Rendering counters of one source of a pipeline (the sum over sources of one kind). */
export const SourceStatsReport = Closed({
  /** `audio`, `video` or `subtitle`. */
  kind: Type.Enum(["audio", "video", "subtitle"]),
  renderedFrames: Count,
  droppedFrames: Count,
  renderedBytes: Count,
});
export type SourceStatsReport = Static<typeof SourceStatsReport>;

/** One pipeline of the app: its state, position and per-source counters. */
export const PipelineStatsReport = Closed({
  pipelineId: PipelineId,
  state: PlaybackState,
  /** Playback position, ns. */
  positionNs: Nanoseconds,
  sources: Type.Array(SourceStatsReport, { maxItems: 8 }),
});
export type PipelineStatsReport = Static<typeof PipelineStatsReport>;

/**
 * The session server's report. Client counters are those of its retry-RPC server (SPEC 7):
 * requests run, retransmits answered from the reply cache, reconnects.
 */
export const StatsEvent = Closed({
  /** Registered clients (connected or within their grace period). */
  clients: Count,
  /** Client requests run since the session server started. */
  rpcCalls: Count,
  /** Retransmitted client requests answered from the reply cache (or joined). */
  rpcRetransmits: Count,
  /** Clients that came back on a new connection with their client id (retry-RPC reconnects). */
  rpcReconnects: Count,
  /** Mean time a client request took to run, ms (over every method; 0 before the first). */
  rpcMeanMs: Type.Number({ minimum: 0, maximum: 3_600_000 }),
  /** Web-audio ring underruns since the session server started. */
  webAudioUnderruns: Type.Optional(Count),
  /** Bytes of AV shared memory mapped now (0 while Inactive). */
  avMemoryBytes: Count,
  pipelines: Type.Array(PipelineStatsReport, { maxItems: MAX_REPORTED_PIPELINES }),
});
export type StatsEvent = Static<typeof StatsEvent>;
