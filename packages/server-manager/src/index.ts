export type { AppPhase, TerminationKind, TerminationReason } from "./app-phase.ts";
export type { AppView } from "./http/app-view.ts";
export {
  type MonitorHttp,
  type MonitorHttpOptions,
  startMonitorHttp,
} from "./http/monitor-http-server.ts";
export type {
  AppSnapshot,
  MonitorCallback,
  MonitorHandle,
  MonitorOptions,
} from "./monitor-hub.ts";
export type { ServerManagerOptions } from "./options.ts";
export { defaultRuntimeDir } from "./runtime-dir.ts";
export {
  type PreloadedServerInfo,
  SESSION_SERVER_ENV_DEFAULTS,
  ServerManager,
  type ServerManagerEvents,
} from "./server-manager.ts";
export {
  type BuildStatus,
  defaultSessionServerCommand,
  SESSION_SERVER_LAYOUT,
  sessionServerBuildStatus,
} from "./session-server-command.ts";
export type { WaitForStateOptions } from "./state-waiter.ts";
