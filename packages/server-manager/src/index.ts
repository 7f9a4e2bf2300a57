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
  ServerManager,
  type ServerManagerEvents,
} from "./server-manager.ts";
export { defaultSessionServerCommand } from "./session-server-command.ts";
export type { WaitForStateOptions } from "./state-waiter.ts";
