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
export * from "./client-gateway/index.ts";
export { type ClientListener, openClientListener } from "./client-listener.ts";
export { type ClientSessionsOptions, createClientSessions } from "./clients/index.ts";
export { SessionServerExitCode } from "./exit-codes.ts";
export * from "./keys/index.ts";
export { createSessionServerLogger, type SessionServerLoggerOptions } from "./logger.ts";
export { main, runMainAndExit } from "./main.ts";
export * from "./media/gstreamer/index.ts";
export * from "./media/index.ts";
export {
  ANNOUNCE_TIMEOUT_MS,
  type RunningSessionServer,
  type RunSessionServerOptions,
  runSessionServer,
} from "./run-session-server.ts";
export { SessionServer, type SessionServerOptions } from "./session-server.ts";
export * from "./web-audio/index.ts";
