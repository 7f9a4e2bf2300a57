import type { MediaSource } from "@rialto/protocol";
import type { FrameEncryption, MediaFrame } from "@rialto/shm";

/**
 * An audio source to attach (e.g. AAC: `audio/mp4` with its AudioSpecificConfig).
 *
 * Sample formats by MIME type (one {@link MediaSegment} = one access unit):
 * - `audio/mp4`: raw AAC frames (as stored in an MP4); `codecData` is required: the
 *   AudioSpecificConfig (the esds's DecoderSpecificInfo). `audio/aac` without `codecData`: ADTS.
 * - `audio/x-opus`: Opus packets; `codecData`, when given, is the OpusHead (from the `dOps` box).
 * - `audio/x-ac3`, `audio/x-eac3`: one (E-)AC-3 sync frame per sample.
 * - `audio/x-raw`, `audio/b-wav`: PCM; give `sampleRate` and `channels`.
 *
 * `attachSource` refuses (`INVALID_ARGUMENT`, naming the supported ones) a MIME type the engine
 * does not list in `RialtoClient.getSupportedMimeTypes("audio")`, and codec data its format needs
 * but lacks.
 */
export interface AudioSourceConfig {
  readonly type: "audio";
  /** Elementary-stream MIME type, `audio/...`, one of `getSupportedMimeTypes("audio")`. */
  readonly mimeType: string;
  /** Codec configuration (e.g. the AudioSpecificConfig), at most 64 KiB. */
  readonly codecData?: Uint8Array;
  /** Samples per second; also the default of every segment of this source. */
  readonly sampleRate?: number;
  /** Channels; also the default of every segment of this source. */
  readonly channels?: number;
  /** Whether frames may be encrypted; default false. */
  readonly hasDrm?: boolean;
}

/**
 * A video source to attach (e.g. H.264: `video/h264` with its avcC record).
 *
 * Sample formats by MIME type (one {@link MediaSegment} = one access unit, i.e. one frame):
 * - `video/h264` with `codecData` = the avcC record (an MP4's `avcC` box payload): samples are
 *   length-prefixed NAL units, as stored in an MP4 ("avc" stream format). Without `codecData`:
 *   Annex B (start codes, SPS/PPS in band).
 * - `video/h265`: the same with the hvcC record ("hvc1"), or Annex B without it.
 * - `video/x-vp9`, `video/x-av1`: one frame (AV1: a temporal unit) per sample.
 *
 * `attachSource` refuses (`INVALID_ARGUMENT`) a MIME type the engine does not list in
 * `getSupportedMimeTypes("video")` and codec data that is not the record its format uses.
 */
export interface VideoSourceConfig {
  readonly type: "video";
  /** Elementary-stream MIME type, `video/...`, one of `getSupportedMimeTypes("video")`. */
  readonly mimeType: string;
  /** Codec configuration (the avcC or hvcC record), at most 64 KiB. */
  readonly codecData?: Uint8Array;
  /** Width in pixels; also the default of every segment of this source. */
  readonly width?: number;
  /** Height in pixels; also the default of every segment of this source. */
  readonly height?: number;
  /** Whether frames may be encrypted; default false. */
  readonly hasDrm?: boolean;
}

/** A subtitle source to attach (`text/vtt`, `text/ttml`, `text/cc`, ...): one cue per sample. */
export interface SubtitleSourceConfig {
  readonly type: "subtitle";
  /** MIME type, `text/...` or `application/...`. */
  readonly mimeType: string;
  /** Which text track to render. */
  readonly textTrackIdentifier?: string;
}

/** A source for `MediaPipeline.attachSource`. */
export type MediaSourceConfig = AudioSourceConfig | VideoSourceConfig | SubtitleSourceConfig;

/**
 * One sample for `MediaPipeline.addSegment` (Rialto's `MediaSegment`). Audio and video
 * parameters left out come from the source's config (0, "unknown", when it has none either).
 *
 * Timestamps: `timestampNs` is the **presentation** time (PTS) in nanoseconds on the media's
 * timeline (an MP4's composition time with its edit list applied), not the decode time. Send a
 * source's samples in **decode order** (as stored in the file); the renderer orders them by
 * PTS. After a seek (`setPosition(t)`), start again from the keyframe at or before `t`: the
 * app repositions its samples, the server never does. The format of `data` depends on the
 * source's MIME type: see {@link VideoSourceConfig} and {@link AudioSourceConfig}.
 */
export interface MediaSegment {
  /** The sample bytes (copied into shared memory by `addSegment`), one access unit. */
  readonly data: Uint8Array;
  /** Presentation time (PTS), ns; may be negative for priming samples before the start. */
  readonly timestampNs: number;
  /** Duration, ns (≥ 0). */
  readonly durationNs: number;
  /** New codec data starting with this sample. */
  readonly codecData?: Uint8Array;
  /** Audio: samples per second. */
  readonly sampleRate?: number;
  /** Audio: channels. */
  readonly channels?: number;
  /** Video: width in pixels. */
  readonly width?: number;
  /** Video: height in pixels. */
  readonly height?: number;
  /** How the sample is encrypted (key session, key id, IV, subsamples, cipher mode). */
  readonly encryption?: FrameEncryption;
}

/** The wire form of a source: codec data as base64, audio/video parameters grouped. */
export function toWireSource(config: MediaSourceConfig): MediaSource {
  if (config.type === "subtitle") {
    return {
      type: "subtitle",
      mimeType: config.mimeType,
      ...(config.textTrackIdentifier === undefined
        ? {}
        : { textTrackIdentifier: config.textTrackIdentifier }),
    };
  }
  const common = {
    mimeType: config.mimeType,
    ...(config.hasDrm === undefined ? {} : { hasDrm: config.hasDrm }),
    ...(config.codecData === undefined ? {} : { codecData: config.codecData.toBase64() }),
  };
  if (config.type === "audio") {
    const { sampleRate, channels } = config;
    return {
      type: "audio",
      ...common,
      ...(sampleRate === undefined || channels === undefined
        ? {}
        : { audio: { sampleRate, channels } }),
    };
  }
  const { width, height } = config;
  return {
    type: "video",
    ...common,
    ...(width === undefined || height === undefined ? {} : { video: { width, height } }),
  };
}

/** The shared-memory frame of `segment` for source `sourceId` attached as `config`. */
export function toMediaFrame(
  segment: MediaSegment,
  sourceId: number,
  config: MediaSourceConfig,
): MediaFrame {
  // One literal per kind with every key present (absent ones undefined), as the frame reader
  // builds them: no object spreads on the per-sample path.
  const { timestampNs, durationNs, data, codecData, encryption } = segment;
  if (config.type === "audio") {
    return {
      kind: "audio",
      sourceId,
      timestampNs,
      durationNs,
      data,
      codecData,
      encryption,
      sampleRate: segment.sampleRate ?? config.sampleRate ?? 0,
      channels: segment.channels ?? config.channels ?? 0,
    };
  }
  if (config.type === "video") {
    return {
      kind: "video",
      sourceId,
      timestampNs,
      durationNs,
      data,
      codecData,
      encryption,
      width: segment.width ?? config.width ?? 0,
      height: segment.height ?? config.height ?? 0,
    };
  }
  return { kind: "subtitle", sourceId, timestampNs, durationNs, data, codecData, encryption };
}
