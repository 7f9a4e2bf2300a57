import type { ProtectionSystemHeader, SampleEncryptionInfo } from "./encryption-info.ts";

/** One sample (frame) of a demuxed track. */
export interface DemuxedSample {
  /** The sample bytes as stored in the file (H.264: length-prefixed NAL units), a view of the input. */
  readonly data: Uint8Array;
  /**
   * Presentation time in nanoseconds, edit list applied: the movie's time, as ffprobe gives it.
   * Negative for priming samples (an edit that starts inside the media, e.g. AAC / Opus encoder
   * delay); see {@link DemuxedSample.discard}.
   */
  readonly timestampNs: number;
  /** Decode time in nanoseconds, edit list applied. */
  readonly decodeTimestampNs: number;
  /** Duration in nanoseconds. */
  readonly durationNs: number;
  /** Presentation time in the track's timescale (ffprobe's `pts`). */
  readonly pts: number;
  /** Decode time in the track's timescale (ffprobe's `dts`). */
  readonly dts: number;
  /** Duration in the track's timescale. */
  readonly duration: number;
  /** True for a sync sample (a keyframe; every audio sample is one). */
  readonly isSync: boolean;
  /**
   * True when the whole sample lies before the start of the presentation (pts + duration ≤ 0):
   * a priming sample. It is still fed (the decoder needs it to start up); a renderer clips it.
   */
  readonly discard: boolean;
  /**
   * Codec data that starts with this sample, when the track switches to a sample description
   * with other codec data mid-stream. Absent on samples that keep the track's current codec data.
   */
  readonly codecData?: Uint8Array;
  /** How the sample is encrypted; absent for a clear sample (including a clear lead). */
  readonly encryption?: SampleEncryptionInfo;
}

/** Fields every demuxed track has. */
interface DemuxedTrackBase {
  /** The MP4 track id. */
  readonly id: number;
  /** The RFC 6381 codecs string, e.g. `avc1.42c00d`, `mp4a.40.2`, `opus`, `ac-3`, `ec-3`. */
  readonly codec: string;
  /**
   * Elementary-stream MIME type for `attachSource`: `video/h264`, `video/h265`, `audio/mp4`
   * (AAC), `audio/x-opus`, `audio/x-ac3`, `audio/x-eac3`.
   */
  readonly mimeType: string;
  /** Codec configuration: avcC / hvcC, AudioSpecificConfig, OpusHead, dac3 / dec3 payload. */
  readonly codecData: Uint8Array;
  /** Ticks per second of the track's times (`mdhd`). */
  readonly timescale: number;
  /** Duration of the track in nanoseconds: the end of its last sample, edit list applied. */
  readonly durationNs: number;
  /** The samples in decode order. */
  readonly samples: readonly DemuxedSample[];
  /** The protection scheme of its encrypted samples (`cenc` / `cbcs`), absent when clear. */
  readonly scheme?: string;
  /** The key ids its encrypted samples use, hex. */
  readonly keyIds: readonly string[];
}

/** A video track. */
export interface DemuxedVideoTrack extends DemuxedTrackBase {
  /** Discriminant. */
  readonly type: "video";
  /** Width in pixels, from the sample description. */
  readonly width: number;
  /** Height in pixels, from the sample description. */
  readonly height: number;
}

/** An audio track. */
export interface DemuxedAudioTrack extends DemuxedTrackBase {
  /** Discriminant. */
  readonly type: "audio";
  /** Output sample rate in Hz, from the codec configuration (HE-AAC: the SBR rate). */
  readonly sampleRate: number;
  /** Channel count, from the codec configuration (AudioSpecificConfig, dOps, dac3, dec3). */
  readonly channels: number;
}

/** One playable track of a movie. */
export type DemuxedTrack = DemuxedVideoTrack | DemuxedAudioTrack;

/** A track of the file that cannot be played, and why. */
export interface SkippedTrack {
  readonly id: number;
  /** The handler: `vide`, `soun`, `text`, `clcp`, ... */
  readonly handler: string;
  /** What is missing, naming the codec, e.g. `codec "c608" (clcp track)`. */
  readonly reason: string;
}

/** An MP4 file split into elementary streams, ready to be pushed into a media pipeline. */
export interface DemuxedMovie {
  /** Duration of the movie in nanoseconds (its movie header; the longest track if that is 0). */
  readonly durationNs: number;
  /** The playable audio and video tracks in file order. */
  readonly tracks: readonly DemuxedTrack[];
  /** The tracks left out: other handlers, codecs or schemes this demuxer cannot play. */
  readonly skipped: readonly SkippedTrack[];
  /** Every `pssh` box of the file (movie box first, then the fragments'), in file order. */
  readonly pssh: readonly ProtectionSystemHeader[];
}
