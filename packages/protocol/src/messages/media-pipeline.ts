import Type, { type Static } from "typebox";
import { defineMethod } from "../rpc/descriptor.ts";
import { PipelineControlMethods } from "./media-pipeline-controls.ts";
import {
  MAX_FRAMES_PER_REQUEST,
  MediaSource,
  PipelineId,
  PipelineRef,
  RequestId,
  SourceId,
  SourceRef,
} from "./media-source.ts";
import { Closed, Count, Empty, Nanoseconds, Volume, VolumeResult } from "./primitives.ts";

/**
 * Media-pipeline methods (SPEC 6, 9; Rialto's `IMediaPipeline`), called by a client on its
 * session server. All of them need the server Active (`INVALID_STATE` otherwise) and name a
 * pipeline this client created (`NOT_FOUND` otherwise). `addSegment` has no wire message: the
 * client writes frames into shared memory and reports them with `haveData`.
 */

/** Largest video dimension a pipeline may ask for, in pixels. */
export const MAX_VIDEO_DIMENSION = 16_384;

/**
 * Creates a pipeline (Rialto's `VideoRequirements`). Absent dimensions: no requirement. Fails
 * with `RESOURCE_EXHAUSTED` past `maxPlaybackSessions`.
 */
export const CreatePipelineParams = Closed({
  /** Largest video width the app will play, pixels: 1 .. 16384. */
  maxWidth: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_VIDEO_DIMENSION })),
  /** Largest video height the app will play, pixels: 1 .. 16384. */
  maxHeight: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_VIDEO_DIMENSION })),
});
export type CreatePipelineParams = Static<typeof CreatePipelineParams>;

/** The answer to {@link CreatePipelineParams}. */
export const CreatePipelineResult = Closed({ pipelineId: PipelineId });
export type CreatePipelineResult = Static<typeof CreatePipelineResult>;

/** Printable ASCII, for MIME types with parameters and URLs. */
const PRINTABLE = "^[\\x20-\\x7e]*$";

/** Loads a pipeline for MSE playback; sources are attached next. */
export const LoadParams = Closed({
  pipelineId: PipelineId,
  /** Media type; only `MSE` (frames pushed by the app) exists. */
  type: Type.Enum(["MSE"]),
  /** Container MIME type, parameters allowed (e.g. `video/mp4; codecs="avc1.64001f"`). */
  mimeType: Type.Optional(Type.String({ maxLength: 256, pattern: PRINTABLE })),
  /** The media URL for logs (e.g. `mse://1`), at most 4096 printable ASCII characters. */
  url: Type.Optional(Type.String({ maxLength: 4096, pattern: PRINTABLE })),
  /** Live content (no duration, no seeking back); default false. */
  isLive: Type.Optional(Type.Boolean()),
});
export type LoadParams = Static<typeof LoadParams>;

/** Attaches one source; at most one source per type and pipeline. */
export const AttachSourceParams = Closed({ pipelineId: PipelineId, source: MediaSource });
export type AttachSourceParams = Static<typeof AttachSourceParams>;

/** The answer to {@link AttachSourceParams}. */
export const AttachSourceResult = Closed({ sourceId: SourceId });
export type AttachSourceResult = Static<typeof AttachSourceResult>;

/** Largest playback rate (trick play). */
export const MAX_PLAYBACK_RATE = 64;

/** Sets the playback rate: > 0 .. 64, 1 is normal speed (pause with `pipeline/pause`). */
export const SetPlaybackRateParams = Closed({
  pipelineId: PipelineId,
  rate: Type.Number({ exclusiveMinimum: 0, maximum: MAX_PLAYBACK_RATE }),
});
export type SetPlaybackRateParams = Static<typeof SetPlaybackRateParams>;

/** Seeks: Seeking, a flush of every source, SeekDone; then new needMediaData requests. */
export const SetPositionParams = Closed({ pipelineId: PipelineId, positionNs: Nanoseconds });
export type SetPositionParams = Static<typeof SetPositionParams>;

/** The current position, in nanoseconds. */
export const GetPositionResult = Closed({ positionNs: Nanoseconds });
export type GetPositionResult = Static<typeof GetPositionResult>;

/**
 * Flushes one source: its queued frames and its outstanding needMediaData request are dropped.
 * Completion is reported with `pipeline/sourceFlushed`.
 */
export const FlushParams = Closed({
  pipelineId: PipelineId,
  sourceId: SourceId,
  /** Whether the running time restarts at 0 (as after a seek). */
  resetTime: Type.Boolean(),
});
export type FlushParams = Static<typeof FlushParams>;

/** Volume ramp shapes (Rialto's EaseType). */
export const Easing = Type.Enum(["Linear", "InCubic", "OutCubic"]);
export type Easing = Static<typeof Easing>;

/** Longest volume ramp, in milliseconds. */
export const MAX_VOLUME_RAMP_MS = 60_000;

/** Sets the pipeline's volume, at once or as a ramp. */
export const SetVolumeParams = Closed({
  pipelineId: PipelineId,
  /** Target volume, 0 .. 1. */
  volume: Volume,
  /** Ramp duration in milliseconds: 0 .. 60000; default 0 (at once). */
  durationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_VOLUME_RAMP_MS })),
  /** Ramp shape; default `Linear`. */
  easing: Type.Optional(Easing),
});
export type SetVolumeParams = Static<typeof SetVolumeParams>;

/** Mutes or unmutes one source, or the whole pipeline when `sourceId` is absent. */
export const SetMuteParams = Closed({
  pipelineId: PipelineId,
  sourceId: Type.Optional(SourceId),
  mute: Type.Boolean(),
});
export type SetMuteParams = Static<typeof SetMuteParams>;

/** Status of a needMediaData answer (Rialto's MediaSourceStatus). */
export const MediaSourceStatus = Type.Enum([
  "Ok",
  "Eos",
  "Error",
  "CodecChanged",
  "NoAvailableSamples",
  "NoSpaceForSamples",
]);
export type MediaSourceStatus = Static<typeof MediaSourceStatus>;

/**
 * Answers a needMediaData request: `numFrames` frames were written into the request's region.
 * `Ok`, `Eos` (last frames of the source) and `NoSpaceForSamples` read the frames; `Error`,
 * `CodecChanged` and `NoAvailableSamples` drop them and ask again after a back-off. An unknown
 * `requestId` is ignored.
 */
export const HaveDataParams = Closed({
  pipelineId: PipelineId,
  requestId: RequestId,
  status: MediaSourceStatus,
  /** Frames written: 0 .. the request's frameCount (at most 24). */
  numFrames: Type.Integer({ minimum: 0, maximum: MAX_FRAMES_PER_REQUEST }),
});
export type HaveDataParams = Static<typeof HaveDataParams>;

/** Rendering counters of one source (SPEC 9). */
export const SourceStats = Closed({
  renderedFrames: Count,
  droppedFrames: Count,
  renderedBytes: Count,
  /**
   * With the `checksum` sink: lowercase hex SHA-256 over the rendered frame bytes in order
   * (after decryption). Absent with the `null` sink.
   */
  checksum: Type.Optional(Type.String({ minLength: 64, maxLength: 64, pattern: "^[0-9a-f]{64}$" })),
});
export type SourceStats = Static<typeof SourceStats>;

/** A source type whose MIME types are asked for. */
export const SourceType = Type.Enum(["audio", "video", "subtitle"]);
export type SourceType = Static<typeof SourceType>;

/**
 * The MIME types the app's engine plays (Rialto's `IMediaPipelineCapabilities`): of one source
 * type, or of all when `sourceType` is absent. Needs no pipeline and works in any app state.
 */
export const GetSupportedMimeTypesParams = Closed({ sourceType: Type.Optional(SourceType) });
export type GetSupportedMimeTypesParams = Static<typeof GetSupportedMimeTypesParams>;

/** The answer to {@link GetSupportedMimeTypesParams}: elementary-stream MIME types. */
export const GetSupportedMimeTypesResult = Closed({
  mimeTypes: Type.Array(Type.String({ maxLength: 128, pattern: PRINTABLE }), { maxItems: 256 }),
});
export type GetSupportedMimeTypesResult = Static<typeof GetSupportedMimeTypesResult>;

/** Whether the app's engine plays a MIME type (parameters after `;` are ignored). */
export const IsMimeTypeSupportedParams = Closed({
  mimeType: Type.String({ minLength: 1, maxLength: 256, pattern: PRINTABLE }),
});
export type IsMimeTypeSupportedParams = Static<typeof IsMimeTypeSupportedParams>;

/** The answer to {@link IsMimeTypeSupportedParams}. */
export const IsMimeTypeSupportedResult = Closed({ supported: Type.Boolean() });
export type IsMimeTypeSupportedResult = Static<typeof IsMimeTypeSupportedResult>;

/** Media-pipeline methods (client → session server). */
export const PipelineMethods = {
  /** Creates a pipeline. */
  create: defineMethod("pipeline/create", CreatePipelineParams, CreatePipelineResult),
  /** Loads it (MSE). */
  load: defineMethod("pipeline/load", LoadParams, Empty),
  /** Attaches a source. */
  attachSource: defineMethod("pipeline/attachSource", AttachSourceParams, AttachSourceResult),
  /** Removes a source. */
  removeSource: defineMethod("pipeline/removeSource", SourceRef, Empty),
  /** Every source is attached: prerolling starts (needMediaData with 3 frames). */
  allSourcesAttached: defineMethod("pipeline/allSourcesAttached", PipelineRef, Empty),
  /** Plays (state Playing follows as an event). */
  play: defineMethod("pipeline/play", PipelineRef, Empty),
  /** Pauses. */
  pause: defineMethod("pipeline/pause", PipelineRef, Empty),
  /** Stops (state Stopped). */
  stop: defineMethod("pipeline/stop", PipelineRef, Empty),
  /** Sets the playback rate. */
  setPlaybackRate: defineMethod("pipeline/setPlaybackRate", SetPlaybackRateParams, Empty),
  /** Seeks. */
  setPosition: defineMethod("pipeline/setPosition", SetPositionParams, Empty),
  /** The current position. */
  getPosition: defineMethod("pipeline/getPosition", PipelineRef, GetPositionResult),
  /** Flushes one source. */
  flush: defineMethod("pipeline/flush", FlushParams, Empty),
  /** Sets the volume. */
  setVolume: defineMethod("pipeline/setVolume", SetVolumeParams, Empty),
  /** The current volume. */
  getVolume: defineMethod("pipeline/getVolume", PipelineRef, VolumeResult),
  /** Mutes or unmutes. */
  setMute: defineMethod("pipeline/setMute", SetMuteParams, Empty),
  /** Answers a needMediaData request. */
  haveData: defineMethod("pipeline/haveData", HaveDataParams, Empty),
  /** Rendering counters of one source. */
  getStats: defineMethod("pipeline/getStats", SourceRef, SourceStats),
  /** Destroys the pipeline and frees its shared-memory partition. */
  destroy: defineMethod("pipeline/destroy", PipelineRef, Empty),
  /** The MIME types the engine plays (capabilities; no pipeline needed). */
  getSupportedMimeTypes: defineMethod(
    "pipeline/getSupportedMimeTypes",
    GetSupportedMimeTypesParams,
    GetSupportedMimeTypesResult,
  ),
  /** Whether the engine plays a MIME type (capabilities; no pipeline needed). */
  isMimeTypeSupported: defineMethod(
    "pipeline/isMimeTypeSupported",
    IsMimeTypeSupportedParams,
    IsMimeTypeSupportedResult,
  ),
  /** What a browser's media stack calls besides playback (SPEC 9.2). */
  ...PipelineControlMethods,
} as const;
