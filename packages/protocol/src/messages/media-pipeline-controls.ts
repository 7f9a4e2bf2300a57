import Type, { type Static } from "typebox";
import { defineEvent, defineMethod } from "../rpc/descriptor.ts";
import { MediaSource, PipelineId, PipelineRef, SourceId, SourceRef } from "./media-source.ts";
import { Closed, Empty, Nanoseconds, Volume } from "./primitives.ts";

/**
 * What a browser's media stack calls besides playback (SPEC 9.2; Rialto's `IMediaPipeline`):
 * per-source positions (an MSE seek is a flush plus `setSourcePosition` per source), source
 * switches, sink and sync settings, and the `playbackInfo` event that answers position queries
 * without a round trip. Like every pipeline call they need the app Running and a pipeline of the
 * caller.
 */

/** Largest playback rate a segment may carry. */
const MAX_APPLIED_RATE = 64;

/**
 * The new segment of one source after its flush (Rialto's `setSourcePosition`): frames before
 * `positionNs` are not rendered; with `resetTime` the pipeline's time restarts there.
 */
export const SetSourcePositionParams = Closed({
  pipelineId: PipelineId,
  sourceId: SourceId,
  positionNs: Nanoseconds,
  /** Whether the running time restarts at `positionNs`; default true. */
  resetTime: Type.Optional(Type.Boolean()),
  /** The segment's applied rate; default 1. */
  appliedRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_APPLIED_RATE })),
  /** Where the segment stops, ns; absent: at the end of the stream. */
  stopPositionNs: Type.Optional(Nanoseconds),
});
export type SetSourcePositionParams = Static<typeof SetSourcePositionParams>;

/** Replaces a source's codec (an audio codec or language switch): same type, new description. */
export const SwitchSourceParams = Closed({ pipelineId: PipelineId, source: MediaSource });
export type SwitchSourceParams = Static<typeof SwitchSourceParams>;

/** The answer of `getMute`. */
export const MuteResult = Closed({ mute: Type.Boolean() });
export type MuteResult = Static<typeof MuteResult>;

/** Names one source, or the whole pipeline when `sourceId` is absent. */
export const OptionalSourceRef = Closed({
  pipelineId: PipelineId,
  sourceId: Type.Optional(SourceId),
});
export type OptionalSourceRef = Static<typeof OptionalSourceRef>;

/** Where the video is drawn, in screen pixels (Rialto's `setVideoWindow`). */
export const SetVideoWindowParams = Closed({
  pipelineId: PipelineId,
  x: Type.Integer({ minimum: 0, maximum: 32_767 }),
  y: Type.Integer({ minimum: 0, maximum: 32_767 }),
  width: Type.Integer({ minimum: 0, maximum: 32_767 }),
  height: Type.Integer({ minimum: 0, maximum: 32_767 }),
});
export type SetVideoWindowParams = Static<typeof SetVideoWindowParams>;

/** A boolean setting of the pipeline (`setSync`, `setSyncOff`, `setLowLatency`, ...). */
export const PipelineFlagParams = Closed({ pipelineId: PipelineId, enabled: Type.Boolean() });
export type PipelineFlagParams = Static<typeof PipelineFlagParams>;

/** A boolean setting of one source (`setImmediateOutput`). */
export const SourceFlagParams = Closed({
  pipelineId: PipelineId,
  sourceId: SourceId,
  enabled: Type.Boolean(),
});
export type SourceFlagParams = Static<typeof SourceFlagParams>;

/** The answer of a boolean getter. */
export const FlagResult = Closed({ enabled: Type.Boolean() });
export type FlagResult = Static<typeof FlagResult>;

/** Rialto's `setStreamSyncMode`: the sync mode of one source (0: default, 1: ...). */
export const SetStreamSyncModeParams = Closed({
  pipelineId: PipelineId,
  sourceId: SourceId,
  streamSyncMode: Type.Integer({ minimum: 0, maximum: 255 }),
});
export type SetStreamSyncModeParams = Static<typeof SetStreamSyncModeParams>;

/** Which text track a subtitle source renders (Rialto's `setTextTrackIdentifier`). */
export const TextTrackParams = Closed({
  pipelineId: PipelineId,
  textTrackIdentifier: Type.String({ maxLength: 64 }),
});
export type TextTrackParams = Static<typeof TextTrackParams>;

/** The answer of `getTextTrackIdentifier`. */
export const TextTrackResult = Closed({ textTrackIdentifier: Type.String({ maxLength: 64 }) });
export type TextTrackResult = Static<typeof TextTrackResult>;

/** Shifts a subtitle source's timing (Rialto's `setSubtitleOffset`), ns. */
export const SubtitleOffsetParams = Closed({
  pipelineId: PipelineId,
  sourceId: SourceId,
  positionNs: Nanoseconds,
});
export type SubtitleOffsetParams = Static<typeof SubtitleOffsetParams>;

/** An audio gap the app knows of (Rialto's `processAudioGap`), in ns. */
export const ProcessAudioGapParams = Closed({
  pipelineId: PipelineId,
  positionNs: Nanoseconds,
  durationNs: Nanoseconds,
  discontinuityGapNs: Type.Integer({
    minimum: -Number.MAX_SAFE_INTEGER,
    maximum: Number.MAX_SAFE_INTEGER,
  }),
  audioAac: Type.Boolean(),
});
export type ProcessAudioGapParams = Static<typeof ProcessAudioGapParams>;

/** How much media the pipeline buffers, ms (Rialto's `setBufferingLimit`). */
export const BufferingLimitParams = Closed({
  pipelineId: PipelineId,
  limitBufferingMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
});
export type BufferingLimitParams = Static<typeof BufferingLimitParams>;

/** The answer of `getBufferingLimit`. */
export const BufferingLimitResult = Closed({
  limitBufferingMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
});
export type BufferingLimitResult = Static<typeof BufferingLimitResult>;

/** Which of `propertyNames` the engine supports for a source type. */
export const GetSupportedPropertiesParams = Closed({
  sourceType: Type.Enum(["audio", "video", "subtitle"]),
  propertyNames: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
});
export type GetSupportedPropertiesParams = Static<typeof GetSupportedPropertiesParams>;

/** The answer of `getSupportedProperties`: the supported names, in the order asked. */
export const GetSupportedPropertiesResult = Closed({
  supportedProperties: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
});
export type GetSupportedPropertiesResult = Static<typeof GetSupportedPropertiesResult>;

/**
 * Position and volume, every 32 ms while playing (Rialto's `playbackInfo`), so a sink answers
 * position queries without a round trip.
 */
export const PlaybackInfoEvent = Closed({
  pipelineId: PipelineId,
  currentPositionNs: Nanoseconds,
  volume: Volume,
});
export type PlaybackInfoEvent = Static<typeof PlaybackInfoEvent>;

/** The browser-path methods (client → session server). */
export const PipelineControlMethods = {
  setSourcePosition: defineMethod("pipeline/setSourcePosition", SetSourcePositionParams, Empty),
  switchSource: defineMethod("pipeline/switchSource", SwitchSourceParams, Empty),
  getMute: defineMethod("pipeline/getMute", OptionalSourceRef, MuteResult),
  setVideoWindow: defineMethod("pipeline/setVideoWindow", SetVideoWindowParams, Empty),
  renderFrame: defineMethod("pipeline/renderFrame", PipelineRef, Empty),
  setSync: defineMethod("pipeline/setSync", PipelineFlagParams, Empty),
  getSync: defineMethod("pipeline/getSync", PipelineRef, FlagResult),
  setSyncOff: defineMethod("pipeline/setSyncOff", PipelineFlagParams, Empty),
  setLowLatency: defineMethod("pipeline/setLowLatency", PipelineFlagParams, Empty),
  setImmediateOutput: defineMethod("pipeline/setImmediateOutput", SourceFlagParams, Empty),
  getImmediateOutput: defineMethod("pipeline/getImmediateOutput", SourceRef, FlagResult),
  setStreamSyncMode: defineMethod("pipeline/setStreamSyncMode", SetStreamSyncModeParams, Empty),
  setTextTrackIdentifier: defineMethod("pipeline/setTextTrackIdentifier", TextTrackParams, Empty),
  getTextTrackIdentifier: defineMethod(
    "pipeline/getTextTrackIdentifier",
    PipelineRef,
    TextTrackResult,
  ),
  setSubtitleOffset: defineMethod("pipeline/setSubtitleOffset", SubtitleOffsetParams, Empty),
  processAudioGap: defineMethod("pipeline/processAudioGap", ProcessAudioGapParams, Empty),
  setBufferingLimit: defineMethod("pipeline/setBufferingLimit", BufferingLimitParams, Empty),
  getBufferingLimit: defineMethod("pipeline/getBufferingLimit", PipelineRef, BufferingLimitResult),
  setUseBuffering: defineMethod("pipeline/setUseBuffering", PipelineFlagParams, Empty),
  getUseBuffering: defineMethod("pipeline/getUseBuffering", PipelineRef, FlagResult),
  getSupportedProperties: defineMethod(
    "pipeline/getSupportedProperties",
    GetSupportedPropertiesParams,
    GetSupportedPropertiesResult,
  ),
} as const;

/** The browser-path events (session server → client). */
export const PipelineControlEvents = {
  /** Position and volume every 32 ms while playing. */
  playbackInfo: defineEvent("pipeline/playbackInfo", PlaybackInfoEvent),
} as const;
