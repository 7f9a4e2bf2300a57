import Type, { type Static } from "typebox";
import { defineEvent } from "../rpc/descriptor.ts";
import { PipelineControlEvents } from "./media-pipeline-controls.ts";
import {
  MAX_FRAMES_PER_REQUEST,
  PipelineId,
  RequestId,
  SourceId,
  SourceRef,
} from "./media-source.ts";
import { Closed, Count, DiagnosticText, Nanoseconds, ShmRegion } from "./primitives.ts";

/**
 * Media-pipeline events (SPEC 6, 9; Rialto's `IMediaPipelineClient`), pushed by the session
 * server to the client that owns the pipeline.
 */

/** Playback state of a pipeline (Rialto's PlaybackState). */
export const PlaybackState = Type.Enum([
  "Idle",
  "Playing",
  "Paused",
  "Seeking",
  "SeekDone",
  "Stopped",
  "EndOfStream",
  "Failure",
]);
export type PlaybackState = Static<typeof PlaybackState>;

/** Network (buffering) state of a pipeline (Rialto's NetworkState). */
export const NetworkState = Type.Enum([
  "Idle",
  "Buffering",
  "BufferingProgress",
  "Buffered",
  "Stalled",
  "FormatError",
  "NetworkError",
  "DecodeError",
]);
export type NetworkState = Static<typeof NetworkState>;

/** Kind of a playback error (Rialto's PlaybackError, with `Generic` for everything else). */
export const PlaybackErrorKind = Type.Enum(["Generic", "Decryption", "OutputProtection"]);
export type PlaybackErrorKind = Static<typeof PlaybackErrorKind>;

/** The pipeline's playback state changed. */
export const PlaybackStateEvent = Closed({ pipelineId: PipelineId, state: PlaybackState });
export type PlaybackStateEvent = Static<typeof PlaybackStateEvent>;

/** The pipeline's network state changed. */
export const NetworkStateEvent = Closed({ pipelineId: PipelineId, state: NetworkState });
export type NetworkStateEvent = Static<typeof NetworkStateEvent>;

/**
 * The server wants frames for one source; at most one request per source is outstanding. The
 * client writes up to `frameCount` frames (versioned metadata table + frame bytes) into
 * `region` and answers with `pipeline/haveData`. The region is hidden from the app.
 */
export const NeedMediaDataEvent = Closed({
  pipelineId: PipelineId,
  sourceId: SourceId,
  requestId: RequestId,
  /** Frames wanted: 1 .. 24 (24 while playing, 3 while prerolling). */
  frameCount: Type.Integer({ minimum: 1, maximum: MAX_FRAMES_PER_REQUEST }),
  /** The source's region of the AV shared memory, in bytes from the start of the mapping. */
  region: ShmRegion,
});
export type NeedMediaDataEvent = Static<typeof NeedMediaDataEvent>;

/** The playback position, while playing (default every 250 ms) and after a seek. */
export const PositionEvent = Closed({ pipelineId: PipelineId, positionNs: Nanoseconds });
export type PositionEvent = Static<typeof PositionEvent>;

/** Quality of service of one source: frames processed and dropped so far (late frames). */
export const QosEvent = Closed({
  pipelineId: PipelineId,
  sourceId: SourceId,
  processed: Count,
  dropped: Count,
});
export type QosEvent = Static<typeof QosEvent>;

/** A playback error of one source; the pipeline usually goes to `Failure` too. */
export const PlaybackErrorEvent = Closed({
  pipelineId: PipelineId,
  sourceId: SourceId,
  error: PlaybackErrorKind,
  /** What went wrong, at most 1024 characters. */
  message: DiagnosticText,
});
export type PlaybackErrorEvent = Static<typeof PlaybackErrorEvent>;

/** Media-pipeline events (session server → client). */
export const PipelineEvents = {
  /** Playback state changed. */
  playbackState: defineEvent("pipeline/playbackState", PlaybackStateEvent),
  /** Network state changed. */
  networkState: defineEvent("pipeline/networkState", NetworkStateEvent),
  /** Frames wanted for one source. */
  needMediaData: defineEvent("pipeline/needMediaData", NeedMediaDataEvent),
  /** Position while playing. */
  position: defineEvent("pipeline/position", PositionEvent),
  /** QoS counters of one source. */
  qos: defineEvent("pipeline/qos", QosEvent),
  /** A source ran out of frames while playing. */
  bufferUnderflow: defineEvent("pipeline/bufferUnderflow", SourceRef),
  /** The first frame of a source was rendered. */
  firstFrame: defineEvent("pipeline/firstFrame", SourceRef),
  /** A flush of one source completed. */
  sourceFlushed: defineEvent("pipeline/sourceFlushed", SourceRef),
  /** A playback error of one source. */
  playbackError: defineEvent("pipeline/playbackError", PlaybackErrorEvent),
  /** Position and volume every 32 ms while playing (SPEC 9.2). */
  ...PipelineControlEvents,
} as const;
