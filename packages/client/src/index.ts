export type { RialtoClientOptions } from "./client-options.ts";
export { MediaPipeline, type PipelineLifecycle } from "./media-pipeline.ts";
export { type ClientStats, type MappedSharedMemory, RialtoClient } from "./rialto-client.ts";
export type { PoolStats } from "./shm-rpc/pool-invoker.ts";
