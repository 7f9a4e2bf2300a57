export { DEMO_CLIP_PATH, DEMO_CLIP_TRACKS, demuxMp4File, loadDemoClip } from "./demo-clip.ts";
export {
  type CencSampleEncryption,
  demuxEncryptedMp4,
  type EncryptedSample,
} from "./demux-encrypted.ts";
export { demuxMp4 } from "./demux-mp4.ts";
export type {
  DemuxedAudioTrack,
  DemuxedMovie,
  DemuxedSample,
  DemuxedTrack,
  DemuxedVideoTrack,
} from "./demuxed-movie.ts";
export { toMediaFrame } from "./to-media-frame.ts";
export { trackChecksum } from "./track-checksum.ts";
