import Type, { type Static } from "typebox";
import { defineEvent, defineMethod } from "../rpc/descriptor.ts";
import {
  AppId,
  LogLevel,
  PlaybackOptions,
  RequestedState,
  Resources,
  SessionServerState,
  TargetState,
  Uid,
} from "./common.ts";
import { StatsEvent } from "./control-stats.ts";
import {
  Closed,
  DiagnosticText,
  Empty,
  MAX_SAFE,
  ProcessId,
  ProtocolVersionString,
  SocketPath,
} from "./primitives.ts";

/**
 * The control channel between the server manager and one session server (SPEC 3, 5): the
 * socketpair end on fd 3 of a spawned session server, or the daemon's control socket for a
 * session server started from a shell that announced itself with `control/announce`.
 *
 * Methods are called by the manager and served by the session server, except `announce`
 * (session server → daemon). The event goes from the session server to the manager.
 */

/**
 * Reports the session server's state. Its first message is always `Uninitialised` (the
 * manager then cancels the READY timer); after `setConfiguration`/`setState` it reports the
 * state reached, or `Error` (with a reason) before exiting.
 */
export const StateChangedEvent = Closed({
  state: SessionServerState,
  /** Why the state was reached, for `Error` in particular (at most 1024 characters). */
  reason: Type.Optional(DiagnosticText),
});
export type StateChangedEvent = Static<typeof StateChangedEvent>;

/** Largest client grace period: 10 minutes. */
export const MAX_CLIENT_GRACE_PERIOD_MS = 600_000;

/**
 * The configuration a session server gets once it reported `Uninitialised` (Rialto's
 * SetConfiguration). Everything is resolved by the manager: no defaults are applied here.
 */
export const SetConfigurationParams = Closed({
  /** The app this session server now serves (preloaded servers learn it here). */
  appId: AppId,
  /** Absolute path of the listening socket to create for the app's clients. */
  socketPath: SocketPath,
  /** File mode of that socket, e.g. 0o660 (= 432): integer 0 .. 0o777. */
  socketPermissions: Type.Integer({ minimum: 0, maximum: 0o777 }),
  /** The state to reach after configuration; shared memory is allocated for `Active`. */
  targetState: TargetState,
  /** Resource limits; they also size the shared memory. */
  resources: Resources,
  /** Initial log level. */
  logLevel: LogLevel,
  /** Renderer clock and sink of the app's pipelines. */
  playback: PlaybackOptions,
  /**
   * How long a disconnected client's pipelines and key sessions are kept for a reconnect, in
   * milliseconds: 0 .. 600000; default 30000 (SPEC 7).
   */
  clientGracePeriodMs: Type.Optional(
    Type.Integer({ minimum: 0, maximum: MAX_CLIENT_GRACE_PERIOD_MS }),
  ),
  /** When present, only clients running as one of these uids may connect (SO_PEERCRED). */
  allowedUids: Type.Optional(Type.Array(Uid, { minItems: 1, maxItems: 64 })),
  /**
   * True when the manager owns the app's listening sockets (SPEC 3 sequence 5), already bound at
   * `socketPath` and its side channel and listening: a session server spawned for the app got
   * them as inherited fds named by {@link LISTENING_FDS_ENV}; a preloaded one (started before its
   * app was known) gets them just before this call as one SCM_RIGHTS record (RPC socket, then
   * side channel) on its fd channel (fd 4). The session server serves them instead of binding,
   * and leaves the files to the manager. Absent (a joined session server): it binds
   * `socketPath` itself.
   */
  socketsPassed: Type.Optional(Type.Boolean()),
});
export type SetConfigurationParams = Static<typeof SetConfigurationParams>;

/**
 * Environment variable of a session server spawned for a known app: the fds of its listening
 * sockets, inherited from the manager, as `<rpc>,<side channel>` (e.g. `5,6`). Passing them at
 * spawn spares the session server bun:ffi (SCM_RIGHTS) until a client connects.
 */
export const LISTENING_FDS_ENV = "RIALTO_LISTENING_FDS";

/** Moves a configured session server to another state (Rialto's SetState). */
export const SetStateParams = Closed({ state: RequestedState });
export type SetStateParams = Static<typeof SetStateParams>;

/** Changes the session server's log level at run time. */
export const ControlSetLogLevelParams = Closed({ level: LogLevel });
export type ControlSetLogLevelParams = Static<typeof ControlSetLogLevelParams>;

/** A health-check ping; the result echoes the id (the "ack"). Ids: integer 0 .. 2^53 - 1. */
export const ControlPingParams = Closed({
  id: Type.Integer({ minimum: 0, maximum: MAX_SAFE }),
  /**
   * How long the session server's workers (each pipeline's render loop, each Running client)
   * have to answer, ms; default 1000. The ping is answered once all did, or at this deadline.
   */
  deadlineMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
});
export type ControlPingParams = Static<typeof ControlPingParams>;

/**
 * The answer to {@link ControlPingParams}: the same id, sent once every internal worker answered
 * or the deadline passed. `ok: false` when a worker of the server itself (a pipeline's render
 * loop) missed it (the manager counts that as a missed ping); `late` names what missed,
 * clients included (a client cannot fail its server's health check).
 */
export const ControlPingAck = Closed({
  id: Type.Integer({ minimum: 0, maximum: MAX_SAFE }),
  ok: Type.Optional(Type.Boolean()),
  late: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 })),
});
export type ControlPingAck = Static<typeof ControlPingAck>;

/**
 * The answer to `control/park`: whether the session server took it. `parked: true`: it stopped
 * accepting clients at once and now stops as for SetState(NotRunning) (reports NotRunning and
 * exits). `parked: false`: it goes on serving; `reason` says what holds it (a state other than
 * Inactive or a change under way, a client connection, a side channel not claimed yet, a client,
 * a pipeline, or sockets of its own that stopping would remove).
 */
export const ControlParkResult = Closed({
  parked: Type.Boolean(),
  reason: Type.Optional(DiagnosticText),
});
export type ControlParkResult = Static<typeof ControlParkResult>;

/**
 * Sent by a session server started from a shell (`RIALTO_CONTROL_SOCKET=... rialto-session-server
 * --app-id X`) as its first call on the daemon's control socket. Once accepted (monitor event
 * `joined`), that connection is its control channel: it sends `stateChanged(Uninitialised)` and
 * the manager configures it as if it had spawned it. Refused with `APP_EXISTS` when the app is
 * known, `INCOMPATIBLE_VERSION` on another major.
 */
export const ControlAnnounceParams = Closed({
  appId: AppId,
  /** The session server's process id (the manager watches but did not spawn it). */
  pid: ProcessId,
  /** The announcing session server's `PROTOCOL_VERSION`. */
  protocolVersion: ProtocolVersionString,
});
export type ControlAnnounceParams = Static<typeof ControlAnnounceParams>;

/** Methods of the control channel (manager → session server, plus `announce`). */
export const ControlChannelMethods = {
  /** Configures an `Uninitialised` session server; it then reports the target state or Error. */
  setConfiguration: defineMethod("control/setConfiguration", SetConfigurationParams, Empty),
  /** Requests a state change; the outcome is reported with `control/stateChanged`. */
  setState: defineMethod("control/setState", SetStateParams, Empty),
  /** Changes the log level at run time. */
  setLogLevel: defineMethod("control/setLogLevel", ControlSetLogLevelParams, Empty),
  /**
   * Stop if unused (the manager parks an Inactive app with no client): checked and done in one
   * step on the session server, so a client it accepted meanwhile is never dropped.
   */
  park: defineMethod("control/park", Empty, ControlParkResult),
  /** Health check (default every 5 s; 3 unanswered pings count as a hang). */
  ping: defineMethod("control/ping", ControlPingParams, ControlPingAck),
  /** A shell-started session server joins the daemon (sent on the control socket). */
  announce: defineMethod("control/announce", ControlAnnounceParams, Empty),
} as const;

/** Events of the control channel (session server → manager). */
export const ControlChannelEvents = {
  /** The session server's state; the first message on the channel is `Uninitialised`. */
  stateChanged: defineEvent("control/stateChanged", StateChangedEvent),
  /**
   * Media counters (pipelines, clients), sent only when they changed, at most every
   * `STATS_INTERVAL_MS`; a manager that does not know it ignores it.
   */
  stats: defineEvent("control/stats", StatsEvent),
} as const;
