export type { RialtoClientOptions } from "./client-options.ts";
export type { MediaLifecycle } from "./media-host.ts";
export { MediaKeys, type MediaKeysEventMap } from "./media-keys.ts";
export { MediaPipeline, type PipelineLifecycle } from "./media-pipeline.ts";
export type { SourcePositionOptions } from "./media-pipeline-controls.ts";
export type {
  MediaPipelineEventName,
  MediaPipelineEvents,
  MediaPipelineListener,
  PipelineReleaseReason,
} from "./media-pipeline-events.ts";
export type { LoadOptions, VolumeOptions } from "./media-pipeline-playback.ts";
export type { AddSegmentStatus } from "./media-pipeline-requests.ts";
export type {
  AudioSourceConfig,
  MediaSegment,
  MediaSourceConfig,
  SubtitleSourceConfig,
  VideoSourceConfig,
} from "./media-pipeline-sources.ts";
export { type ClientStats, type MappedSharedMemory, RialtoClient } from "./rialto-client.ts";
export type { PoolStats } from "./shm-rpc/pool-invoker.ts";
export { SourceFeeder, type SourceFeederOptions } from "./source-feeder.ts";
export { WebAudioPlayer, type WebAudioPlayerEventMap } from "./web-audio-player.ts";
