import Type, { type Static } from "typebox";
import { Base64, Closed, Handle } from "./primitives.ts";

/**
 * Handles and source descriptions shared by the media-pipeline methods and events (SPEC 6, 9;
 * Rialto's `MediaSource*`).
 */

/** A media pipeline, assigned by `pipeline/create`. */
export const PipelineId = Handle;
export type PipelineId = Static<typeof PipelineId>;

/** A source of a pipeline, assigned by `pipeline/attachSource`. */
export const SourceId = Handle;
export type SourceId = Static<typeof SourceId>;

/** A needMediaData request id (Rialto: a u32 counter): integer 0 .. 2^32 - 1. */
export const RequestId = Type.Integer({ minimum: 0, maximum: 4_294_967_295 });
export type RequestId = Static<typeof RequestId>;

/** Most frames one needMediaData request asks for (24 while playing, 3 while prerolling). */
export const MAX_FRAMES_PER_REQUEST = 24;

/** Names one pipeline. */
export const PipelineRef = Closed({ pipelineId: PipelineId });
export type PipelineRef = Static<typeof PipelineRef>;

/** Names one source of one pipeline. */
export const SourceRef = Closed({ pipelineId: PipelineId, sourceId: SourceId });
export type SourceRef = Static<typeof SourceRef>;

/** Largest codec data (e.g. an avcC or AudioSpecificConfig record): 64 KiB decoded. */
export const MAX_CODEC_DATA_BYTES = 65_536;

/** Codec-specific configuration as base64, at most 64 KiB decoded. */
export const CodecData = Base64(MAX_CODEC_DATA_BYTES);
export type CodecData = Static<typeof CodecData>;

const MIME_SUBTYPE = "[A-Za-z0-9][A-Za-z0-9.+_-]{0,100}";

/** Audio parameters known when the source is attached (frames may still carry their own). */
export const AudioConfig = Closed({
  /** Samples per second: 1 .. 768000. */
  sampleRate: Type.Integer({ minimum: 1, maximum: 768_000 }),
  /** Channels: 1 .. 32. */
  channels: Type.Integer({ minimum: 1, maximum: 32 }),
});
export type AudioConfig = Static<typeof AudioConfig>;

/** Video parameters known when the source is attached, in pixels: 1 .. 16384 each. */
export const VideoConfig = Closed({
  width: Type.Integer({ minimum: 1, maximum: 16_384 }),
  height: Type.Integer({ minimum: 1, maximum: 16_384 }),
});
export type VideoConfig = Static<typeof VideoConfig>;

/** An audio source, e.g. `audio/mp4` (AAC), `audio/x-opus`. */
export const AudioSource = Closed({
  type: Type.Literal("audio"),
  /** Elementary-stream MIME type, `audio/...` (at most 107 characters). */
  mimeType: Type.String({ maxLength: 107, pattern: `^audio/${MIME_SUBTYPE}$` }),
  /** Whether frames may be encrypted; default false. */
  hasDrm: Type.Optional(Type.Boolean()),
  codecData: Type.Optional(CodecData),
  audio: Type.Optional(AudioConfig),
});
export type AudioSource = Static<typeof AudioSource>;

/** A video source, e.g. `video/h264`, `video/h265`. */
export const VideoSource = Closed({
  type: Type.Literal("video"),
  /** Elementary-stream MIME type, `video/...` (at most 107 characters). */
  mimeType: Type.String({ maxLength: 107, pattern: `^video/${MIME_SUBTYPE}$` }),
  /** Whether frames may be encrypted; default false. */
  hasDrm: Type.Optional(Type.Boolean()),
  codecData: Type.Optional(CodecData),
  video: Type.Optional(VideoConfig),
});
export type VideoSource = Static<typeof VideoSource>;

/** A subtitle source, e.g. `text/vtt`, `application/ttml+xml`. */
export const SubtitleSource = Closed({
  type: Type.Literal("subtitle"),
  /** MIME type, `text/...` or `application/...` (at most 113 characters). */
  mimeType: Type.String({ maxLength: 113, pattern: `^(text|application)/${MIME_SUBTYPE}$` }),
  /** Which text track to render (Rialto's textTrackIdentifier), at most 64 characters. */
  textTrackIdentifier: Type.Optional(Type.String({ maxLength: 64 })),
});
export type SubtitleSource = Static<typeof SubtitleSource>;

/** A source to attach to a pipeline, discriminated by `type`. */
export const MediaSource = Type.Union([AudioSource, VideoSource, SubtitleSource]);
export type MediaSource = Static<typeof MediaSource>;
