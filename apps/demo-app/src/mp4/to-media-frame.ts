import type { MediaFrame } from "@rialto/shm";
import type { DemuxedSample, DemuxedTrack } from "./demuxed-movie.ts";

/**
 * The shared-memory frame of one demuxed sample, for the source `sourceId` of a pipeline: the
 * sample's bytes (not copied), times, the track's audio or video parameters, and its codec
 * data when the sample changes it.
 */
export function toMediaFrame(
  track: DemuxedTrack,
  sample: DemuxedSample,
  sourceId: number,
): MediaFrame {
  const base = {
    sourceId,
    timestampNs: sample.timestampNs,
    durationNs: sample.durationNs,
    data: sample.data,
    ...(sample.codecData === undefined ? {} : { codecData: sample.codecData }),
  };
  return track.type === "video"
    ? { kind: "video", ...base, width: track.width, height: track.height }
    : { kind: "audio", ...base, sampleRate: track.sampleRate, channels: track.channels };
}
