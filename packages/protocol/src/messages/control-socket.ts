import Type, { type Static } from "typebox";
import { defineEvent, defineMethod } from "../rpc/descriptor.ts";
import {
  AppConfig,
  AppId,
  LogLevel,
  RequestedState,
  SessionServerState,
  TargetState,
} from "./common.ts";
import { Closed, Empty, ProcessId, SocketPath } from "./primitives.ts";

/**
 * The daemon's control socket (SPEC 3.2, 4): `rialtoctl` and external monitors talk to
 * `rialto-server-manager`. One `manager/*` method per ServerManager call of SPEC 3.1, the
 * monitor registration calls, and the monitor messages as one `monitor/message` event.
 * (A shell-started session server also uses this socket, with `control/announce`.)
 */

/** Largest number of apps a listing or a monitor snapshot carries. */
export const MAX_APPLICATIONS = 1024;

/** `initiateApplication(appId, state, config?)`: starts a session server for a NotRunning app. */
export const InitiateApplicationParams = Closed({
  appId: AppId,
  /** The state to bring the app to once configured. */
  state: TargetState,
  /** Per-app configuration; defaults as documented on {@link AppConfig}. */
  config: Type.Optional(AppConfig),
});
export type InitiateApplicationParams = Static<typeof InitiateApplicationParams>;

/** `changeSessionServerState(appId, state)`. */
export const ChangeSessionServerStateParams = Closed({ appId: AppId, state: RequestedState });
export type ChangeSessionServerStateParams = Static<typeof ChangeSessionServerStateParams>;

/** Names one app. */
export const AppRef = Closed({ appId: AppId });
export type AppRef = Static<typeof AppRef>;

/** `getAppConnectionInfo(appId)`: the socket path the app's client connects to. */
export const AppConnectionInfo = Closed({ socketPath: SocketPath });
export type AppConnectionInfo = Static<typeof AppConnectionInfo>;

/** `getState(appId)`: the app's state; `state` is absent for an unknown app. */
export const GetStateResult = Closed({ state: Type.Optional(SessionServerState) });
export type GetStateResult = Static<typeof GetStateResult>;

/** One app as listed by `listApplications()`. */
export const ApplicationInfo = Closed({
  appId: AppId,
  state: SessionServerState,
  /** The session server's process id; absent while no process runs (e.g. during a restart). */
  pid: Type.Optional(ProcessId),
  /** The client socket path. */
  socketPath: SocketPath,
});
export type ApplicationInfo = Static<typeof ApplicationInfo>;

/** `listApplications()`: every app the manager knows, at most 1024. */
export const ListApplicationsResult = Closed({
  applications: Type.Array(ApplicationInfo, { maxItems: MAX_APPLICATIONS }),
});
export type ListApplicationsResult = Static<typeof ListApplicationsResult>;

/** `setLogLevel(level, appId?)`: one app's session server, or the manager and every app. */
export const ManagerSetLogLevelParams = Closed({
  level: LogLevel,
  appId: Type.Optional(AppId),
});
export type ManagerSetLogLevelParams = Static<typeof ManagerSetLogLevelParams>;

/**
 * Makes the caller's connection a monitor (RaySession's `monitor_announce`): it receives the
 * state list (`client_state` per app, then `client_state_end`) and then every `client_event`,
 * as `monitor/message` events. A session server that is also a monitor names its own app so
 * that it is never told about itself.
 */
export const MonitorAnnounceParams = Closed({
  /** The app the monitor belongs to, if any: messages about it are not sent to this monitor. */
  appId: Type.Optional(AppId),
});
export type MonitorAnnounceParams = Static<typeof MonitorAnnounceParams>;

/** Monitor events (SPEC 4), in the order they usually happen to an app. */
export const MonitorEventName = Type.Enum([
  "start_request",
  "started",
  "joined",
  "ready",
  "state_request",
  "state_changed",
  "open_error",
  "state_error",
  "stop_request",
  "stopped_by_server",
  "stopped_by_itself",
  "restarted",
  "removed",
]);
export type MonitorEventName = Static<typeof MonitorEventName>;

/** Snapshot of one app, sent first to a new monitor (and again after `monitor/reset`). */
export const MonitorClientState = Closed({
  type: Type.Literal("client_state"),
  appId: AppId,
  /** Whether a session server process runs for it. */
  isStarted: Type.Boolean(),
  state: SessionServerState,
});
export type MonitorClientState = Static<typeof MonitorClientState>;

/** Ends the snapshot: `count` = number of `client_state` messages sent before it. */
export const MonitorClientStateEnd = Closed({
  type: Type.Literal("client_state_end"),
  count: Type.Integer({ minimum: 0, maximum: MAX_APPLICATIONS }),
});
export type MonitorClientStateEnd = Static<typeof MonitorClientStateEnd>;

/**
 * A lifecycle event of one app. `state` is the target for `state_request` and the new state for
 * `state_changed`; other events may carry the state the app is in.
 */
export const MonitorClientEvent = Closed({
  type: Type.Literal("client_event"),
  appId: AppId,
  event: MonitorEventName,
  state: Type.Optional(SessionServerState),
});
export type MonitorClientEvent = Static<typeof MonitorClientEvent>;

/** Every message a monitor receives, discriminated by `type`. */
export const MonitorMessage = Type.Union([
  MonitorClientState,
  MonitorClientStateEnd,
  MonitorClientEvent,
]);
export type MonitorMessage = Static<typeof MonitorMessage>;

/** Methods of the daemon control socket (caller: `rialtoctl` or a monitor; served by the daemon). */
export const ControlSocketMethods = {
  /** Starts a session server for the app; resolves once spawned (state comes later). */
  initiateApplication: defineMethod(
    "manager/initiateApplication",
    InitiateApplicationParams,
    Empty,
  ),
  /** Moves the app to another state; `NotRunning` stops it. */
  changeSessionServerState: defineMethod(
    "manager/changeSessionServerState",
    ChangeSessionServerStateParams,
    Empty,
  ),
  /** The app's client socket path; `UNKNOWN_APP` for an unknown app. */
  getAppConnectionInfo: defineMethod("manager/getAppConnectionInfo", AppRef, AppConnectionInfo),
  /** The app's state, or no state for an unknown app. */
  getState: defineMethod("manager/getState", AppRef, GetStateResult),
  /** Every known app. */
  listApplications: defineMethod("manager/listApplications", Empty, ListApplicationsResult),
  /** Changes the log level of one app's session server, or of the manager and every app. */
  setLogLevel: defineMethod("manager/setLogLevel", ManagerSetLogLevelParams, Empty),
  /** Becomes a monitor; the state list follows as `monitor/message` events. */
  monitorAnnounce: defineMethod("monitor/announce", MonitorAnnounceParams, Empty),
  /** Stops being a monitor; an external monitor must send it before it stops. */
  monitorQuit: defineMethod("monitor/quit", Empty, Empty),
  /** Asks for the state list again (`client_state` per app, then `client_state_end`). */
  monitorReset: defineMethod("monitor/reset", Empty, Empty),
} as const;

/** Events of the daemon control socket (daemon → monitor). */
export const ControlSocketEvents = {
  /** One monitor message (SPEC 4). */
  monitorMessage: defineEvent("monitor/message", MonitorMessage),
} as const;
