export { splitDashSegments } from "./dash-segments.ts";
export {
  DEMO_CLIP_GOLDEN,
  DEMO_CLIP_PATH,
  DEMO_CLIP_TRACKS,
  demuxMp4File,
  loadDemoClip,
} from "./demo-clip.ts";
export { demuxEncryptedMp4, type EncryptedSample } from "./demux-encrypted.ts";
export { demuxMp4, readMp4, ticksToNs } from "./demux-mp4.ts";
export type {
  DemuxedAudioTrack,
  DemuxedMovie,
  DemuxedSample,
  DemuxedTrack,
  DemuxedVideoTrack,
  SkippedTrack,
} from "./demuxed-movie.ts";
export {
  COMMON_SYSTEM_ID,
  type ProtectionSystemHeader,
  type SampleEncryptionInfo,
  type Subsample,
} from "./encryption-info.ts";
export {
  compareTrack,
  ffprobeAvailable,
  isEqualToReference,
  type ReferenceStream,
  readReferencePackets,
  type TrackComparison,
} from "./ffprobe-reference.ts";
export {
  compareWithGolden,
  type GoldenFile,
  type GoldenTrack,
  goldenStream,
  loadGolden,
} from "./golden-values.ts";
export { toMediaFrame } from "./to-media-frame.ts";
export { presentedSamples, trackChecksum } from "./track-checksum.ts";
