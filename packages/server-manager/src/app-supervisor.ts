import { lstatSync, unlinkSync } from "node:fs";
import {
  type ControlParkResult,
  type LogLevel,
  type MonitorEventName,
  RialtoError,
  type SessionServerState,
  type StatsEvent,
  sideChannelPath,
  type TargetState,
  toRialtoError,
} from "@rialto/protocol";
import type { OwnedSocket } from "@rialto/shm";
import type { Logger } from "pino";
import { configurationParams, type ResolvedAppConfig } from "./app-config.ts";
import {
  type AppPhase,
  assertTransition,
  RESTARTABLE,
  SETTLED_PHASES,
  type TerminationKind,
  type TerminationReason,
} from "./app-phase.ts";
import { AppSockets } from "./app-sockets.ts";
import type { ResolvedOptions } from "./options.ts";
import type {
  ExitInfo,
  SessionServerHandle,
  SessionServerListener,
} from "./session-server-handle.ts";

/** What an {@link AppSupervisor} needs from its manager. */
export interface SupervisorContext {
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  /** True once `close()` started: no restarts. */
  readonly closing: boolean;
  /** Emits `stateChanged(appId, state)` to the manager's listeners. */
  notifyState(appId: string, state: SessionServerState): void;
  /** Sends a `client_event` to the monitors. */
  monitor(appId: string, event: MonitorEventName, state?: SessionServerState): void;
  /** A waiting preloaded server (already `Uninitialised`), now owned by `listener`; or none. */
  takePreloaded(listener: SessionServerListener): SessionServerHandle | undefined;
  /**
   * Spawns a fresh session server with the app's extra environment and its listening sockets
   * (inherited); throws SPAWN_FAILED.
   */
  spawn(
    env: Record<string, string>,
    listener: SessionServerListener,
    listeningSockets?: readonly number[],
  ): SessionServerHandle;
  /** Queues a restart of the app on the manager's work queue. */
  requestRestart(app: AppSupervisor): void;
  /** Queues parking the app (it stayed Inactive with no client for `parkInactiveAfterMs`). */
  requestPark(app: AppSupervisor): void;
  /** The app was parked or woken: the manager watches parked apps' sockets for clients. */
  parkingChanged(): void;
  /** Drops the app from the manager's table (its id may be used again). */
  forget(app: AppSupervisor): void;
  /** A `control/stats` report of the app's current session server arrived. */
  statsReported?(appId: string, report: StatsEvent): void;
}

/**
 * The lifecycle of one app (SPEC 3): an explicit {@link AppPhase} machine driven by the caller's
 * requests (queued by the manager) and by what its session server reports, with the READY and
 * transition timers, the crash/hang reactions, the restart policy and a recorded
 * {@link TerminationReason}. Public state changes go out as `stateChanged` and monitor events.
 */
export class AppSupervisor implements SessionServerListener {
  readonly appId: string;
  readonly config: ResolvedAppConfig;
  /** True for a session server started from outside (joined); such an app is never restarted. */
  readonly joined: boolean;
  /** The state to (re)start in: the last Inactive/Active requested or reached. */
  targetState: TargetState;
  /** The public state (`getState`). */
  state: SessionServerState = "NotRunning";
  phase: AppPhase = "launching";
  server: SessionServerHandle | undefined;
  /** Why the current session server of this app ended (kept after the app is forgotten). */
  termination: TerminationReason | undefined;
  /** Why the one before ended, while a restarted one runs. */
  previousTermination: TerminationReason | undefined;
  /** The last `control/stats` report of the current session server. */
  lastStats: StatsEvent | undefined;
  readonly #ctx: SupervisorContext;
  readonly #log: Logger;
  #requested: TargetState | undefined;
  #reachedTarget = false;
  /** Set once one of this app's session servers reported a configured state: the socket is ours. */
  #ownsSocket = false;
  /** The app's listening sockets, owned here from the first launch until the app is forgotten. */
  #sockets: AppSockets | undefined;
  #stopRequested = false;
  #stopKind: TerminationKind = "stopped";
  /**
   * Parking or waking: the session server's comings and goings (its start, its first state, its
   * stop) are not reported; only a state the app really changes to is.
   */
  #quiet = false;
  /** The session server asked to park (`control/park` in flight): its NotRunning is the park. */
  #parking: SessionServerHandle | undefined;
  #parkTimer: ReturnType<typeof setTimeout> | undefined;
  #readyTimer: ReturnType<typeof setTimeout> | undefined;
  #transitionTimer: ReturnType<typeof setTimeout> | undefined;
  #settled = Promise.withResolvers<void>();
  readonly #removed = Promise.withResolvers<void>();

  constructor(
    ctx: SupervisorContext,
    appId: string,
    config: ResolvedAppConfig,
    targetState: TargetState,
    joined = false,
  ) {
    this.#ctx = ctx;
    this.appId = appId;
    this.config = config;
    this.targetState = targetState;
    this.joined = joined;
    this.#log = ctx.logger.child({ appId });
  }

  /** Resolves when nothing is in flight: the app is running, failed or removed. */
  whenSettled(): Promise<void> {
    return this.#settled.promise;
  }

  /** Resolves once the app is forgotten. */
  whenRemoved(): Promise<void> {
    return this.#removed.promise;
  }

  /**
   * Starts (or restarts) the app's session server: the first time, creates the app's listening
   * sockets (kept until the app is forgotten); then a preloaded server when available (not on a
   * restart, not for an app with its own `env`), else a fresh process; then waits for its first
   * message with the READY timer. Throws PERMISSION_DENIED (socket) or SPAWN_FAILED (the app is
   * then forgotten).
   */
  launch(restart: boolean): void {
    this.#reachedTarget = false;
    if (restart) this.#monitor("restarted", this.targetState);
    this.#monitor("start_request", this.targetState);
    if (this.#sockets === undefined) {
      try {
        this.#sockets = AppSockets.open(
          this.config.socketPath,
          this.#ctx.options.socketPermissions,
          "initiateApplication",
        );
      } catch (error) {
        this.termination = { kind: "socket-unavailable", detail: toRialtoError(error).message };
        this.#monitor("open_error");
        this.#remove();
        throw error;
      }
    }
    // A preloaded server already runs with the manager's environment: an app with its own env
    // needs a fresh one.
    const canUsePreloaded = !restart && Object.keys(this.config.env).length === 0;
    const preloaded = canUsePreloaded ? this.#ctx.takePreloaded(this) : undefined;
    if (preloaded !== undefined) {
      this.#attach(preloaded);
      this.#monitor("started");
      this.#ready();
      return;
    }
    let server: SessionServerHandle;
    try {
      server = this.#ctx.spawn(this.config.env, this, this.#sockets?.fds);
    } catch (error) {
      this.termination = { kind: "spawn-failed", detail: toRialtoError(error).message };
      this.#monitor("open_error");
      this.#remove();
      throw error;
    }
    this.#attach(server);
    this.#monitor("started");
  }

  /** Takes over a session server that joined from outside (monitor event `joined`). */
  adopt(server: SessionServerHandle): void {
    this.#attach(server);
    this.#monitor("joined");
  }

  /**
   * `changeSessionServerState`: SetState(Inactive|Active) or a stop. Resolves with the session
   * server's OK; the new state follows as `stateChanged`.
   */
  async changeState(state: TargetState | "NotRunning", method: string): Promise<void> {
    if (state === "NotRunning") return this.stop(method);
    if (this.phase === "parked" && state !== this.state) {
      this.#monitor("state_request", state);
      this.wake(state);
      return;
    }
    if (this.phase !== "running" || this.server === undefined) {
      throw new RialtoError(
        "INVALID_STATE",
        `${method}: app "${this.appId}" is ${this.state} (${this.phase}), cannot go to ${state}`,
      );
    }
    if (state === this.state) {
      throw new RialtoError("INVALID_STATE", `${method}: app "${this.appId}" is already ${state}`);
    }
    const server = this.server;
    this.#enter("changing");
    this.#requested = state;
    this.#monitor("state_request", state);
    try {
      await server.setState(state, this.#ctx.options.transitionTimeoutMs);
      // Accepted: the new state must now be reported in time.
      if (this.server === server && this.#is("changing")) this.#startTransitionTimer("state_error");
    } catch (error) {
      const failure = toRialtoError(error);
      if (this.server === server && this.#is("changing")) {
        // No answer in time: the server is hung, so it is killed rather than given a grace.
        const hung = failure.code === "TIMEOUT";
        this.#fail({ kind: "state-change-failed", detail: failure.message }, "state_error", hung);
      }
      throw new RialtoError(failure.code, `${method}: ${failure.message}`, { cause: failure });
    }
  }

  /**
   * Moves the app to NotRunning: SetState(NotRunning) when it is configured, else the process is
   * terminated. The app is forgotten once the process is gone. Resolves once the request is made.
   */
  async stop(method = "changeSessionServerState"): Promise<void> {
    const server = this.server;
    if (this.phase === "stopping") {
      throw new RialtoError("INVALID_STATE", `${method}: app "${this.appId}" is already stopping`);
    }
    this.#stopRequested = true;
    this.#monitor("stop_request", "NotRunning");
    if (this.phase === "launching" || server === undefined) {
      this.#remove();
      return;
    }
    const configured = this.phase === "running";
    this.#enter("stopping");
    if (!configured) {
      void server.terminate(this.#ctx.options.stopTimeoutMs);
      return;
    }
    await this.#stopServer(server);
  }

  /** SetState(NotRunning), then makes sure the process goes (terminated if it refuses). */
  async #stopServer(server: SessionServerHandle): Promise<void> {
    try {
      await server.setState("NotRunning", this.#ctx.options.transitionTimeoutMs);
    } catch (error) {
      // The outcome asked for (no session server) is reached either way: it is terminated.
      this.#log.warn({ err: error }, "SetState(NotRunning) failed; terminating the session server");
      void server.terminate(this.#ctx.options.stopTimeoutMs);
      return;
    }
    void server.ensureExit(this.#ctx.options.stopTimeoutMs);
  }

  /** Stops the app for `ServerManager.close()` and resolves once it is forgotten. */
  async shutdown(): Promise<void> {
    this.#stopKind = "manager-closed";
    if (this.phase !== "stopping" && this.phase !== "removed") {
      await this.stop("close").catch((error) =>
        this.#log.warn({ err: error }, "stop on close failed"),
      );
    }
    void this.server?.ensureExit(this.#ctx.options.stopTimeoutMs);
    await this.#removed.promise;
  }

  /** Changes the app's log level now (when configured) and for every later configuration. */
  async setLogLevel(level: LogLevel): Promise<void> {
    this.config.logLevel = level;
    const server = this.server;
    if (server === undefined || !["configuring", "running", "changing"].includes(this.phase))
      return;
    await server.setLogLevel(level, this.#ctx.options.transitionTimeoutMs);
  }

  /** Called by the health check after `failedPingsBeforeRecovery` unanswered pings in a row. */
  hung(server: SessionServerHandle): void {
    if (server !== this.server || !this.#isActive()) return;
    this.#fail(
      { kind: "hung", detail: `${server.health.failed} pings unanswered` },
      undefined,
      true,
    );
  }

  /** Whether the health check should ping this app's server (configured and not stopping). */
  get isPingable(): boolean {
    return this.phase === "configuring" || this.phase === "running" || this.phase === "changing";
  }

  stateChanged(server: SessionServerHandle, state: SessionServerState, reason?: string): void {
    if (server !== this.server) return;
    this.#log.debug({ state, reason, phase: this.phase }, "session server reported a state");
    switch (this.phase) {
      case "starting":
        this.#clearTimers();
        if (state === "Uninitialised") this.#ready();
        else if (state === "Error")
          this.#fail({ kind: "configuration-failed", detail: reason }, "open_error");
        else {
          const detail = `first message was ${state}, not Uninitialised`;
          this.#fail({ kind: "protocol-error", detail }, "open_error", true);
        }
        return;
      case "configuring":
      case "changing": {
        const expected = this.phase === "configuring" ? this.targetState : this.#requested;
        if (state === expected) this.#reached(state);
        else if (state === "Error") {
          const configuring = this.phase === "configuring";
          this.#fail(
            { kind: configuring ? "configuration-failed" : "state-change-failed", detail: reason },
            configuring ? "open_error" : "state_error",
          );
        } else if (state === "NotRunning") this.#stoppedByItself();
        else this.#setState(state);
        return;
      }
      case "running":
        if (state === "Error") this.#fail({ kind: "reported-error", detail: reason });
        else if (state === "NotRunning" && this.#parking === server) this.#parkAccepted(server);
        else if (state === "NotRunning") this.#stoppedByItself();
        else if (state !== this.state) {
          // The session server changed state on its own; a restart brings it back there.
          if (state === "Inactive" || state === "Active") this.targetState = state;
          this.#setState(state);
        }
        return;
      default:
        // stopping, failed: the process is on its way out; NotRunning is announced at removal.
        return;
    }
  }

  stats(server: SessionServerHandle, report: StatsEvent): void {
    if (server !== this.server) return;
    this.lastStats = report;
    this.#ctx.statsReported?.(this.appId, report);
    this.#scheduleParking();
  }

  /** Whether the app is parked (Inactive, no session server). */
  get parked(): boolean {
    return this.phase === "parked";
  }

  /** A parked app's listening sockets, which the manager watches for a client (else none). */
  get parkedSockets(): readonly OwnedSocket[] {
    return this.phase === "parked" ? (this.#sockets?.sockets ?? []) : [];
  }

  /**
   * Parks the app if it is still Inactive with no client: the session server is asked to stop
   * if unused (`control/park`, which it decides in one step, so a client it accepted meanwhile
   * keeps it running) and the app stays Inactive with its sockets kept. Resolves once the session
   * server answered: parked (stopping quietly), or not (the parking timer starts again).
   */
  async park(): Promise<void> {
    const server = this.server;
    if (!this.#parkable() || server === undefined) return;
    this.#parking = server;
    let answer: ControlParkResult;
    try {
      answer = await server.park(this.#ctx.options.transitionTimeoutMs);
    } catch (error) {
      // A server that cannot answer is the health check's business; it stays as it is.
      this.#log.warn({ err: error }, "not parked: control/park failed");
      return;
    } finally {
      this.#parking = undefined;
    }
    if (answer.parked) this.#parkAccepted(server);
    else {
      this.#log.info({ reason: answer.reason }, "not parked: the session server is in use");
      this.#scheduleParking();
    }
  }

  /** The session server took `control/park` (its answer, or its NotRunning, came first). */
  #parkAccepted(server: SessionServerHandle): void {
    if (server !== this.server || this.phase !== "running") return;
    this.#log.info("parked: Inactive with no client; its session server stops");
    this.#quiet = true;
    this.#enter("stopping");
    void server.ensureExit(this.#ctx.options.stopTimeoutMs);
  }

  /** Starts a session server for a parked app, in `state` (a client came, or Active was asked). */
  wake(state: TargetState = "Inactive"): void {
    if (this.phase !== "parked") return;
    this.#log.info({ state }, "waking a parked app");
    this.#quiet = true;
    this.targetState = state;
    this.#enter("launching");
    this.#ctx.parkingChanged();
    this.launch(false);
  }

  channelLost(server: SessionServerHandle, cause?: RialtoError): void {
    if (server !== this.server) return;
    if (this.#isActive()) {
      this.#fail({ kind: "channel-broken", detail: cause?.message }, this.#failureEvent());
    }
    void server.ensureExit(this.#ctx.options.stopTimeoutMs);
  }

  exited(server: SessionServerHandle, exit: ExitInfo): void {
    if (server !== this.server) return;
    this.server = undefined;
    this.#clearTimers();
    if (this.#quiet && this.phase === "stopping" && !this.#stopRequested && !this.#ctx.closing) {
      // Parked: no process, the sockets kept, the public state still Inactive.
      this.#quiet = false;
      this.#enter("parked");
      this.#ctx.parkingChanged();
      return;
    }
    this.#quiet = false;
    if (this.#isActive()) {
      this.#fail({ kind: "crashed", detail: describeExit(exit) }, this.#failureEvent());
    }
    const termination = this.termination ?? { kind: this.#stopKind };
    // A broken channel followed by an exit we did not cause is a crash seen from the socket first.
    if (termination.kind === "channel-broken" && !server.signalled) termination.kind = "crashed";
    termination.exit = exit;
    this.termination = termination;
    const byManager = server.signalled || this.phase === "stopping";
    this.#monitor(byManager ? "stopped_by_server" : "stopped_by_itself");
    if (this.phase === "failed" && this.#shouldRestart()) {
      this.#log.warn({ termination }, "session server failed; restarting it");
      this.#enter("launching");
      this.#ctx.requestRestart(this);
      return;
    }
    this.#remove();
  }

  #attach(server: SessionServerHandle): void {
    server.bind(this);
    this.server = server;
    this.previousTermination = this.termination ?? this.previousTermination;
    this.termination = undefined;
    this.lastStats = undefined;
    this.#enter("starting");
    this.#readyTimer = setTimeout(() => {
      if (this.server !== server || this.phase !== "starting") return;
      const detail = `no first message within ${this.#ctx.options.readyTimeoutMs} ms`;
      this.#fail({ kind: "ready-timeout", detail }, "open_error", true);
    }, this.#ctx.options.readyTimeoutMs);
  }

  #ready(): void {
    const server = this.server as SessionServerHandle;
    this.#clearTimers();
    this.#enter("configuring");
    this.#monitor("ready", "Uninitialised");
    this.#setState("Uninitialised");
    const params = configurationParams(
      this.appId,
      this.config,
      this.targetState,
      this.#ctx.options.socketPermissions,
    );
    server.configure(params, this.#ctx.options.transitionTimeoutMs, this.#sockets?.fds).then(
      () => {
        // Accepted: the target state must now be reported in time.
        if (this.server === server && this.#is("configuring"))
          this.#startTransitionTimer("open_error");
      },
      (error: unknown) => {
        if (this.server !== server || !this.#is("configuring")) return;
        const failure = toRialtoError(error);
        this.#fail(
          { kind: "configuration-failed", detail: failure.message },
          "open_error",
          failure.code === "TIMEOUT",
        );
      },
    );
  }

  #reached(state: SessionServerState): void {
    this.#clearTimers();
    this.#enter("running");
    if (state === "Inactive" || state === "Active") this.targetState = state;
    this.#requested = undefined;
    this.#reachedTarget = true;
    this.#ownsSocket = true;
    this.#setState(state);
    this.#quiet = false;
    this.#scheduleParking();
  }

  /** Inactive, configured, no client known, not joined: may be parked. */
  #parkable(): boolean {
    return (
      this.#ctx.options.parkInactiveAfterMs > 0 &&
      !this.joined &&
      !this.#ctx.closing &&
      this.phase === "running" &&
      this.state === "Inactive" &&
      (this.lastStats?.clients ?? 0) === 0
    );
  }

  /** (Re)starts the parking timer while the app may be parked. */
  #scheduleParking(): void {
    clearTimeout(this.#parkTimer);
    this.#parkTimer = undefined;
    if (!this.#parkable()) return;
    this.#parkTimer = setTimeout(() => {
      this.#parkTimer = undefined;
      if (this.#parkable()) this.#ctx.requestPark(this);
    }, this.#ctx.options.parkInactiveAfterMs);
  }

  #stoppedByItself(): void {
    this.#clearTimers();
    this.#enter("stopping");
    void this.server?.ensureExit(this.#ctx.options.stopTimeoutMs);
  }

  /** Reports Error, then makes sure the process goes (killed now, or after the stop grace). */
  #fail(reason: TerminationReason, event?: MonitorEventName, kill = false): void {
    this.#clearTimers();
    this.#quiet = false;
    this.termination = reason;
    this.#log.warn({ termination: reason }, "session server failed");
    this.#enter("failed");
    if (event !== undefined) this.#monitor(event, "Error");
    this.#setState("Error");
    const server = this.server;
    if (server === undefined) return;
    if (kill) server.kill();
    else void server.ensureExit(this.#ctx.options.stopTimeoutMs);
  }

  #remove(): void {
    this.#clearTimers();
    this.#enter("removed");
    this.#log.info({ termination: this.termination }, "app forgotten");
    this.#sockets?.close();
    // A joined server binds its socket itself: remove only a socket our session server created
    // (a configured path may belong to someone else).
    if (this.#ownsSocket && this.joined) {
      removeStaleSocket(this.config.socketPath);
      removeStaleSocket(sideChannelPath(this.config.socketPath));
    }
    this.#ctx.forget(this);
    this.#setState("NotRunning");
    this.#monitor("removed");
    this.#removed.resolve();
  }

  #shouldRestart(): boolean {
    const kind = this.termination?.kind;
    return (
      this.#ctx.options.restartOnFailure &&
      !this.#ctx.closing &&
      !this.#stopRequested &&
      !this.joined &&
      this.#reachedTarget &&
      kind !== undefined &&
      RESTARTABLE.has(kind)
    );
  }

  /** Reads the phase afresh (TypeScript keeps a narrowed `this.phase` across awaits). */
  #is(phase: AppPhase): boolean {
    return this.phase === phase;
  }

  #isActive(): boolean {
    return (
      this.phase === "starting" ||
      this.phase === "configuring" ||
      this.phase === "running" ||
      this.phase === "changing"
    );
  }

  #failureEvent(): MonitorEventName | undefined {
    if (this.phase === "starting" || this.phase === "configuring") return "open_error";
    if (this.phase === "changing") return "state_error";
    return undefined;
  }

  #startTransitionTimer(event: MonitorEventName): void {
    const server = this.server;
    const ms = this.#ctx.options.transitionTimeoutMs;
    clearTimeout(this.#transitionTimer);
    this.#transitionTimer = setTimeout(() => {
      if (this.server !== server || !this.#isActive() || this.phase === "running") return;
      this.#fail(
        { kind: "transition-timeout", detail: `no new state within ${ms} ms` },
        event,
        true,
      );
    }, ms);
  }

  #clearTimers(): void {
    clearTimeout(this.#parkTimer);
    this.#parkTimer = undefined;
    clearTimeout(this.#readyTimer);
    clearTimeout(this.#transitionTimer);
    this.#readyTimer = undefined;
    this.#transitionTimer = undefined;
  }

  #enter(phase: AppPhase): void {
    assertTransition(this.appId, this.phase, phase);
    const wasSettled = SETTLED_PHASES.has(this.phase);
    this.phase = phase;
    if (SETTLED_PHASES.has(phase)) this.#settled.resolve();
    else if (wasSettled) this.#settled = Promise.withResolvers<void>();
  }

  #setState(state: SessionServerState): void {
    // Parking or waking, the server's start and the state the app already had are not news.
    if (this.#quiet && (state === "Uninitialised" || state === this.state)) return;
    this.state = state;
    this.#monitor("state_changed", state);
    this.#ctx.notifyState(this.appId, state);
  }

  #monitor(event: MonitorEventName, state?: SessionServerState): void {
    if (this.#quiet && QUIET_EVENTS.has(event)) return;
    this.#ctx.monitor(this.appId, event, state);
  }
}

/** Monitor events of a session server's start and stop, not told while parking or waking. */
const QUIET_EVENTS: ReadonlySet<MonitorEventName> = new Set([
  "start_request",
  "started",
  "ready",
  "stopped_by_server",
  "stopped_by_itself",
]);

function describeExit(exit: ExitInfo): string {
  if (exit.signal !== null) return `killed by ${exit.signal}`;
  if (exit.exitCode !== null) return `exited with code ${exit.exitCode}`;
  return "process gone";
}

/** A crashed session server leaves its socket file behind; nothing listens on it any more. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // No file: nothing to clean up.
  }
}
