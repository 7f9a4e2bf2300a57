export { type ClientSessionsOptions, createClientSessions } from "./client-sessions.ts";
export {
  type Client,
  type ClientRouter,
  ClientState,
  type RegisteredPool,
} from "./client-state.ts";
export type { ClientsContext } from "./clients-context.ts";
export { HandleAllocator, MAX_HANDLE } from "./handle-allocator.ts";
export { MediaKeysBook, type ReleasedMediaKeys } from "./media-keys-book.ts";
export { PipelineBook, type PipelineBookOptions, type PipelineRecord } from "./pipeline-book.ts";
export { WebAudioBook, type WebAudioBookOptions } from "./web-audio-book.ts";
