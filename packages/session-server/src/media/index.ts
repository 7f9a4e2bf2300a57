export { createFrameSink, type FrameSink, type SinkCounters, type SinkKind } from "./frame-sink.ts";
export { type ClockTimer, type MediaClock, systemClock } from "./media-clock.ts";
export type {
  CreatePipelineOptions,
  DataRequest,
  EmitEvent,
  FrameDecryptor,
  MediaEngine,
  Pipeline,
  PipelineListener,
} from "./media-engine.ts";
export {
  NEED_DATA_DELAY_LIMIT_MS,
  NEED_DATA_FIRST_DELAY_MS,
  NeedDataBackoff,
} from "./need-data-backoff.ts";
export {
  type HaveDataOutcome,
  PipelineService,
  type PipelineServiceOptions,
} from "./pipeline-service.ts";
export { ManualClock } from "./test-support/manual-clock.ts";
export { createVirtualEngine, type VirtualEngineOptions } from "./virtual-engine.ts";
export {
  DEFAULT_VIRTUAL_TUNING,
  PLAYING_FRAME_COUNT,
  PREROLL_FRAME_COUNT,
  VirtualPipeline,
  type VirtualPipelineTuning,
} from "./virtual-pipeline.ts";
