/** One sample (frame) of a demuxed track. */
export interface DemuxedSample {
  /** The sample bytes as stored in the file (H.264: length-prefixed NAL units), a view of the input. */
  readonly data: Uint8Array;
  /** Presentation time in nanoseconds (the track's media time; edit lists are not applied). */
  readonly timestampNs: number;
  /** Duration in nanoseconds. */
  readonly durationNs: number;
  /** True for a sync sample (a keyframe; every AAC sample is one). */
  readonly isSync: boolean;
  /**
   * Codec data that starts with this sample, when the track switches to another sample
   * description mid-stream. Absent on samples that keep the track's current codec data.
   */
  readonly codecData?: Uint8Array;
}

/** Fields every demuxed track has. */
interface DemuxedTrackBase {
  /** The MP4 track id. */
  readonly id: number;
  /** The RFC 6381 codecs string, e.g. `avc1.42c00d` or `mp4a.40.2`. */
  readonly codec: string;
  /** Elementary-stream MIME type for `attachSource`: `video/h264`, `video/h265` or `audio/mp4`. */
  readonly mimeType: string;
  /** Codec configuration: the avcC / hvcC record (video) or the AudioSpecificConfig (AAC). */
  readonly codecData: Uint8Array;
  /** Duration of the track in nanoseconds (its media header). */
  readonly durationNs: number;
  /** The samples in decode order. */
  readonly samples: readonly DemuxedSample[];
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
  /** Sample rate in Hz, from the sample description. */
  readonly sampleRate: number;
  /** Channel count, from the sample description. */
  readonly channels: number;
}

/** One playable track of a movie. */
export type DemuxedTrack = DemuxedVideoTrack | DemuxedAudioTrack;

/** An MP4 file split into elementary streams, ready to be pushed into a media pipeline. */
export interface DemuxedMovie {
  /** Duration of the movie in nanoseconds (its movie header; the longest track if that is 0). */
  readonly durationNs: number;
  /** The audio and video tracks in file order; other tracks (text, metadata) are left out. */
  readonly tracks: readonly DemuxedTrack[];
}
