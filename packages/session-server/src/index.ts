/**
 * `@rialto/session-server`: the per-app session server, every public name listed by concept.
 * What only tests and benchmarks use is in `@rialto/session-server/testing`.
 */
// The session server process: AV memory, command line, control and client channels, lifecycle.
export {
  type AllocateSharedMemory,
  AV_MEMFD_NAME,
  AV_PAGE_SIZE,
  AvMemory,
  allocateAvMemfd,
  avMemorySize,
} from "./av-memory.ts";
export {
  CONTROL_CHANNEL_FD,
  type ControlEndpoint,
  defaultControlSocketPath,
  parseArguments,
  type SessionServerArguments,
  USAGE,
} from "./cli-arguments.ts";
export type {
  ClientGateway,
  ClientGatewayOptions,
  CreateClientGateway,
  ResourceOwner,
} from "./client-gateway/index.ts";
export { type ClientListener, openClientListener } from "./client-listener.ts";
export { type ClientSessionsOptions, createClientSessions } from "./clients/index.ts";
export { SessionServerExitCode } from "./exit-codes.ts";

// Media keys: ClearKey sessions and the frame decryptor.
export {
  CLEAR_KEY_SYSTEM,
  ClearKeyMediaKeys,
  COMMON_SYSTEM_ID,
  type ContentKey,
  clearKeyLicenseRequest,
  createFrameDecryptor,
  createMediaKeys,
  DECRYPTION_PLAYBACK_ERROR,
  decodeBase64Url16,
  decryptSample,
  encodeBase64Url,
  type FrameToDecrypt,
  KEY_BYTES,
  KeySession,
  type KeySessionState,
  type KeyStore,
  keyIdsFromInitData,
  type MediaKeysListener,
  type MediaKeysOptions,
  type PsshBox,
  parseJwkSet,
  parsePsshBoxes,
  responseBytes,
  type SampleEncryption,
  type SampleSubsample,
  toHex,
} from "./keys/index.ts";
export {
  createSessionServerLogger,
  LOG_LEVEL_VALUES,
  type SessionServerLogger,
  type SessionServerLoggerOptions,
} from "./logger.ts";
export { main, runMainAndExit } from "./main.ts";

// Media engines: the GStreamer engine and the virtual one, pipelines and their data side.
export {
  createGstreamerEngine,
  DEFAULT_GSTREAMER_TUNING,
  type GstreamerEngineOptions,
  type GstreamerStatus,
  type GstreamerTuning,
  gstreamerStatus,
  SNAPSHOT_ENV,
} from "./media/gstreamer/index.ts";
export {
  type ClockTimer,
  type CreatePipelineOptions,
  createFrameSink,
  createVirtualEngine,
  type DataRequest,
  DEFAULT_VIRTUAL_TUNING,
  type EmitEvent,
  type FrameDecryptor,
  type FrameSink,
  type HaveDataOutcome,
  ManualClock,
  type MediaClock,
  type MediaEngine,
  NEED_DATA_DELAY_LIMIT_MS,
  NEED_DATA_FIRST_DELAY_MS,
  NeedDataBackoff,
  type Pipeline,
  type PipelineListener,
  PipelineService,
  type PipelineServiceOptions,
  PLAYING_FRAME_COUNT,
  PREROLL_FRAME_COUNT,
  type SinkCounters,
  type SinkKind,
  systemClock,
  type VirtualEngineOptions,
  VirtualPipeline,
  type VirtualPipelineTuning,
} from "./media/index.ts";

// Running it.
export {
  ANNOUNCE_TIMEOUT_MS,
  type RunningSessionServer,
  type RunSessionServerOptions,
  runSessionServer,
} from "./run-session-server.ts";
export { SessionServer, type SessionServerOptions } from "./session-server.ts";

// Web audio: the PCM renderer.
export {
  DEFAULT_TICK_MS,
  MAX_PCM_CHANNELS,
  MAX_PCM_RATE,
  PCM_SAMPLE_SIZES,
  type PcmFormat,
  PcmRing,
  PREFERRED_FRAMES,
  type RingSpace,
  validatePcmConfig,
  WebAudioRenderer,
  type WebAudioRendererOptions,
} from "./web-audio/index.ts";
