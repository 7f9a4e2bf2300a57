export type { RialtoClientOptions } from "./client-options.ts";
export type { MediaLifecycle } from "./media-host.ts";
export { MediaKeys, type MediaKeysEventMap } from "./media-keys.ts";
export { MediaPipeline, type PipelineLifecycle } from "./media-pipeline.ts";
export { type ClientStats, type MappedSharedMemory, RialtoClient } from "./rialto-client.ts";
export type { PoolStats } from "./shm-rpc/pool-invoker.ts";
export { WebAudioPlayer, type WebAudioPlayerEventMap } from "./web-audio-player.ts";
