import { EventEmitter } from "node:events";
import {
  type AppConfig,
  type ApplicationInfo,
  assertCompatibleVersion,
  type ControlAnnounceParams,
  ControlChannelMethods,
  compileValidator,
  describeValue,
  LogLevel,
  type RequestedState,
  RialtoError,
  type RpcPeer,
  type SessionServerState,
  type StatsEvent,
  type TargetState,
} from "@rialto/protocol";
import { OwnedSocket } from "@rialto/shm";
import type { Logger } from "pino";
import { assertAppId, resolveAppConfig, validateAppConfig } from "./app-config.ts";
import type { TerminationReason } from "./app-phase.ts";
import { AppSupervisor, type SupervisorContext } from "./app-supervisor.ts";
import { HealthCheck, type PingTarget } from "./health-check.ts";
import {
  type AppSnapshot,
  type MonitorCallback,
  type MonitorHandle,
  MonitorHub,
  type MonitorOptions,
} from "./monitor-hub.ts";
import { type ResolvedOptions, resolveOptions, type ServerManagerOptions } from "./options.ts";
import { ParkedSocketWatch } from "./parked-socket-watch.ts";
import { PreloadedPool } from "./preloaded-pool.ts";
import { ensureRuntimeDir } from "./runtime-dir.ts";
import { SESSION_SERVER_LAYOUT, sessionServerBuildStatus } from "./session-server-command.ts";
import {
  isAlive,
  SessionServerHandle,
  type SessionServerListener,
} from "./session-server-handle.ts";
import { type StateSource, type WaitForStateOptions, waitForAppState } from "./state-waiter.ts";
import { WorkQueue } from "./work-queue.ts";

/** Events of {@link ServerManager}. */
export interface ServerManagerEvents {
  /** An app's session server reached `state` (SPEC 3); NotRunning means the app is forgotten. */
  stateChanged: [appId: string, state: SessionServerState];
  /** An app's session server reported its media counters (`control/stats`, only on change). */
  stats: [appId: string, report: StatsEvent];
  /** A health-check ping was answered after `roundTripMs` (the session server's pid). */
  pingAnswered: [pid: number, roundTripMs: number];
}

/** A preloaded session server waiting for an app. */
export interface PreloadedServerInfo {
  pid: number;
  /** Whether its first message (Uninitialised) arrived, so an app can take it. */
  ready: boolean;
}

const logLevelValidator = compileValidator(LogLevel);
const SESSION_SERVER_STATES: readonly SessionServerState[] = [
  "Uninitialised",
  "Inactive",
  "Active",
  "NotRunning",
  "Error",
];
const TERMINATIONS_KEPT = 1024;
/** How often parked apps' sockets are polled for a waiting client if the watch's thread failed, ms. */
const PARKED_POLL_MS = 250;
/**
 * Environment every session server gets unless the manager's `env` or the app's says otherwise:
 * - Bun's GC timer off (it wakes an idle process about three times a second to check whether to
 *   collect: 3-4 wakeups and ~1 ms of CPU a second against the health check's one ping in five;
 *   the session server collects by itself when it goes idle, and JavaScriptCore's own
 *   allocation triggers still run while it plays);
 * - mimalloc's purge off: its scavenger thread gave back the few pages each health-check ping
 *   freed, then the next ping faulted them in again, a third of an idle server's CPU (per ping
 *   2.9 → 1.7 ms, BENCHMARKS.md device-scale step 8). The price: native memory freed while
 *   playing stays mapped (about 3 MiB after the demo clip, next to the ~30 MiB a played server
 *   keeps anyway);
 * - JavaScriptCore's baseline JIT after 2000 executions of a function rather than 500: an idle
 *   server's health checks kept reaching the threshold of one more function of the ping's path
 *   after another, for minutes (a fifth of its idle CPU); what runs per frame or per call while
 *   playing still gets there within seconds (per ping 2.0 → 1.5 ms; real-time playback 5-15 %
 *   less CPU, less compiling; client-rpc, av-throughput and gst-playback unchanged within their
 *   noise: BENCHMARKS.md device-scale step 10).
 */
export const SESSION_SERVER_ENV_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  BUN_GC_TIMER_DISABLE: "1",
  MIMALLOC_PURGE_DELAY: "-1",
  BUN_JSC_thresholdForJITAfterWarmUp: "2000",
});

/** The "running from sources" warning is logged once per process, not once per manager. */
let warnedAboutSources = false;

/**
 * Starts, configures, watches and stops one session server per app on behalf of the platform's
 * application manager (SPEC 3, 3.1). Every call that changes an app goes through one work
 * queue with a lane per app: one app's calls are applied in the order they were made, each
 * against the state the previous one produced, while different apps' calls run side by side
 * (`maxConcurrentApps` at once). State changes are announced as `stateChanged(appId, state)`
 * events and to monitors.
 */
export class ServerManager extends EventEmitter<ServerManagerEvents> implements AsyncDisposable {
  readonly #options: ResolvedOptions;
  readonly #logger: Logger;
  readonly #apps = new Map<string, AppSupervisor>();
  readonly #terminations = new Map<string, TerminationReason>();
  readonly #queue: WorkQueue;
  readonly #hub: MonitorHub;
  readonly #pool: PreloadedPool;
  readonly #health: HealthCheck;
  readonly #context: SupervisorContext;
  #logLevel: LogLevel;
  #closing = false;
  /** The fallback poll of parked apps' sockets, while one is parked, once the watch failed. */
  #parkedWatch: ReturnType<typeof setInterval> | undefined;
  /** The thread that watches parked apps' sockets (from the first park on). */
  #socketWatch: ParkedSocketWatch | undefined;
  #socketWatchFailed = false;
  /** Parked apps whose waking is queued. */
  readonly #waking = new Set<AppSupervisor>();
  #closed: Promise<void> | undefined;

  /**
   * Checks the options (INVALID_ARGUMENT naming the first bad one), creates the runtime dir
   * (0700), starts the preloaded servers and the health check.
   */
  constructor(options?: ServerManagerOptions) {
    super();
    this.#options = resolveOptions(options);
    this.#logger = this.#options.logger;
    this.#logLevel = this.#options.logLevel;
    this.#queue = new WorkQueue({ concurrency: this.#options.maxConcurrentApps });
    ensureRuntimeDir(this.#options.runtimeDir);
    if (options?.sessionServerCommand === undefined) this.#warnIfRunningSources();
    const manager = this;
    this.#context = {
      options: this.#options,
      logger: this.#logger,
      get closing() {
        return manager.#closing;
      },
      notifyState: (appId, state) => this.#emitState(appId, state),
      monitor: (appId, event, state) => this.#hub.event(appId, event, state),
      takePreloaded: (listener) => this.#pool.take(listener),
      spawn: (env, listener, listeningSockets) => this.#spawn(env, listener, listeningSockets),
      requestRestart: (app) => this.#restart(app),
      requestPark: (app) => this.#park(app),
      parkingChanged: () => this.#watchParked(),
      forget: (app) => this.#forget(app),
      statsReported: (appId, report) => this.#emitQuietly("stats", appId, report),
    };
    this.#hub = new MonitorHub(() => this.#snapshot(), this.#logger);
    this.#pool = new PreloadedPool({
      size: this.#options.preloadedServers,
      readyTimeoutMs: this.#options.readyTimeoutMs,
      stopTimeoutMs: this.#options.stopTimeoutMs,
      spawn: (listener) => this.#spawn({}, listener),
      logger: this.#logger.child({ component: "preloaded-pool" }),
    });
    this.#health = new HealthCheck({
      intervalMs: this.#options.healthCheckIntervalMs,
      failedPingsBeforeRecovery: this.#options.failedPingsBeforeRecovery,
      targets: () => this.#pingTargets(),
      logger: this.#logger.child({ component: "health-check" }),
      onAnswer: (server, ms) => this.#emitQuietly("pingAnswered", server.pid, ms),
    });
    this.#pool.fill();
    this.#health.start();
  }

  /** The runtime dir in use (generated client sockets, the daemon's control socket). */
  get runtimeDir(): string {
    return this.#options.runtimeDir;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.#closing;
  }

  /**
   * Starts a session server for `appId` and brings it to `state` (SPEC 3 sequence 1). Resolves
   * once the process is spawned (or a preloaded one taken) and the READY timer runs; the states
   * follow as `stateChanged` (Uninitialised, then `state`, or Error). Rejects INVALID_ARGUMENT
   * (app id, state, config), APP_EXISTS, SPAWN_FAILED, INVALID_STATE after close.
   */
  async initiateApplication(appId: string, state: TargetState, config?: AppConfig): Promise<void> {
    const method = "initiateApplication";
    this.#assertOpen(method);
    assertAppId(appId, method);
    if (state !== "Inactive" && state !== "Active") {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `${method}: state ${describeValue(state)} must be "Inactive" or "Active"`,
      );
    }
    const appConfig = validateAppConfig(config, method);
    return this.#queue.enqueue((hold) => {
      this.#assertOpen(method);
      const existing = this.#apps.get(appId);
      if (existing !== undefined) {
        throw new RialtoError(
          "APP_EXISTS",
          `${method}: app "${appId}" already exists (state ${existing.state})`,
        );
      }
      const resolved = resolveAppConfig(appId, appConfig, {
        runtimeDir: this.#options.runtimeDir,
        logLevel: this.#logLevel,
      });
      this.#assertSocketFree(resolved.socketPath, method);
      const app = new AppSupervisor(this.#context, appId, resolved, state);
      this.#apps.set(appId, app);
      app.launch(false);
      hold(app.whenSettled(), this.#settleDeadlineMs());
    }, appId);
  }

  /**
   * Moves an app to another state (SPEC 3 sequences 2-4). Resolves with the session server's
   * OK to SetState; the new state follows as `stateChanged`. `NotRunning` stops the app: it is
   * forgotten once its process exited (then `stateChanged(appId, "NotRunning")`). Rejects
   * INVALID_ARGUMENT, UNKNOWN_APP, INVALID_STATE (not running, already in that state, stopping).
   */
  async changeSessionServerState(appId: string, state: RequestedState): Promise<void> {
    const method = "changeSessionServerState";
    this.#assertOpen(method);
    assertAppId(appId, method);
    if (state !== "Inactive" && state !== "Active" && state !== "NotRunning") {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `${method}: state ${describeValue(state)} must be "Inactive", "Active" or "NotRunning"`,
      );
    }
    return this.#queue.enqueue(async (hold) => {
      this.#assertOpen(method);
      const app = this.#app(appId, method);
      try {
        await app.changeState(state, method);
      } finally {
        hold(app.whenSettled(), this.#settleDeadlineMs());
      }
    }, appId);
  }

  /**
   * Resolves once the app is in `state` (at once when it already is): e.g. after
   * `initiateApplication(appId, "Active")`, `await waitForState(appId, "Active")` before the app's
   * client connects (its socket exists from Inactive on). `NotRunning` is reached when the app is
   * forgotten. Rejects UNKNOWN_APP (unknown app, target not NotRunning), INVALID_STATE (the app
   * went to Error or stopped first, with the reason), TIMEOUT (`options.timeoutMs`, default the
   * longest a state change may take), INVALID_ARGUMENT (bad id, state or timeout).
   */
  waitForState(
    appId: string,
    state: SessionServerState,
    options: WaitForStateOptions = {},
  ): Promise<void> {
    const method = "waitForState";
    assertAppId(appId, method);
    if (!SESSION_SERVER_STATES.includes(state)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `${method}: state ${describeValue(state)} must be one of ${SESSION_SERVER_STATES.join(", ")}`,
      );
    }
    const timeoutMs = options.timeoutMs ?? this.#settleDeadlineMs();
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `${method}: timeoutMs ${describeValue(timeoutMs)} must be a non-negative integer`,
      );
    }
    const source: StateSource = {
      events: this,
      state: (id) => this.#apps.get(id)?.state,
      termination: (id) => {
        const reason = this.getTerminationReason(id);
        if (reason === undefined) return undefined;
        return reason.detail === undefined ? reason.kind : `${reason.kind}: ${reason.detail}`;
      },
    };
    return waitForAppState(source, appId, state, timeoutMs);
  }

  /** The socket path the app's client connects to. Throws UNKNOWN_APP, INVALID_ARGUMENT. */
  getAppConnectionInfo(appId: string): string {
    assertAppId(appId, "getAppConnectionInfo");
    return this.#app(appId, "getAppConnectionInfo").config.socketPath;
  }

  /** The app's state, or undefined when the app is unknown. Throws INVALID_ARGUMENT for a bad id. */
  getState(appId: string): SessionServerState | undefined {
    assertAppId(appId, "getState");
    return this.#apps.get(appId)?.state;
  }

  /** Every known app, in the order they were started. */
  listApplications(): ApplicationInfo[] {
    return [...this.#apps.values()].map((app) => {
      const info: ApplicationInfo = {
        appId: app.appId,
        state: app.state,
        socketPath: app.config.socketPath,
      };
      if (app.server?.isRunning) info.pid = app.server.pid;
      return info;
    });
  }

  /**
   * The last media counters the app's current session server reported (`control/stats`);
   * undefined for an unknown app or before its first report.
   */
  getAppStats(appId: string): StatsEvent | undefined {
    return this.#apps.get(appId)?.lastStats;
  }

  /** The preloaded session servers (SPEC 3), ready or still starting. */
  listPreloadedServers(): PreloadedServerInfo[] {
    const ready = new Set(this.#pool.readyServers);
    return this.#pool.servers.map((server) => ({ pid: server.pid, ready: ready.has(server) }));
  }

  /**
   * Why the app's last session server ended (e.g. `{kind: "hung"}`), also after the app was
   * forgotten; undefined when it never ended or the app is unknown.
   */
  getTerminationReason(appId: string): TerminationReason | undefined {
    const app = this.#apps.get(appId);
    return app?.termination ?? app?.previousTermination ?? this.#terminations.get(appId);
  }

  /**
   * Changes the log level of one app's session server, or (without `appId`) of the manager,
   * every running app and every app started later. Rejects INVALID_ARGUMENT, UNKNOWN_APP.
   */
  async setLogLevel(level: LogLevel, appId?: string): Promise<void> {
    const method = "setLogLevel";
    this.#assertOpen(method);
    if (!logLevelValidator.check(level)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `${method}: level ${describeValue(level)} must be one of fatal, error, warn, info, debug, trace, silent`,
      );
    }
    if (appId !== undefined) assertAppId(appId, method);
    return this.#queue.enqueue(async () => {
      if (appId !== undefined) {
        await this.#app(appId, method).setLogLevel(level);
        return;
      }
      this.#logLevel = level;
      this.#logger.level = level;
      const results = await Promise.allSettled(
        [...this.#apps.values()].map((app) => app.setLogLevel(level)),
      );
      const failure = results.find((result) => result.status === "rejected");
      if (failure !== undefined) throw failure.reason;
    }, appId);
  }

  /**
   * Registers a monitor (SPEC 4): `callback` gets one `client_state` per app and
   * `client_state_end` before this returns, then every `client_event`. With `options.appId`
   * the monitor is never told about that app.
   */
  addMonitor(callback: MonitorCallback, options?: MonitorOptions): MonitorHandle {
    this.#assertOpen("addMonitor");
    return this.#hub.add(callback, options);
  }

  /**
   * Adopts a session server started from outside that called `control/announce` on the daemon's
   * control socket (monitor event `joined`). `channel` becomes its control channel; it is
   * configured like a spawned one with target Inactive. Rejects INCOMPATIBLE_VERSION,
   * APP_EXISTS, INVALID_ARGUMENT (no such process).
   */
  async adoptSessionServer(
    channel: RpcPeer<unknown>,
    announce: ControlAnnounceParams,
    channelClosed: Promise<RialtoError | undefined>,
  ): Promise<void> {
    const method = ControlChannelMethods.announce.name;
    this.#assertOpen(method);
    assertAppId(announce.appId, method);
    assertCompatibleVersion(announce.protocolVersion);
    if (!isAlive(announce.pid)) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `${method}: process ${announce.pid} does not exist`,
      );
    }
    return this.#queue.enqueue((hold) => {
      this.#assertOpen(method);
      if (this.#apps.has(announce.appId)) {
        throw new RialtoError("APP_EXISTS", `${method}: app "${announce.appId}" already exists`);
      }
      const config = resolveAppConfig(
        announce.appId,
        {},
        { runtimeDir: this.#options.runtimeDir, logLevel: this.#logLevel },
      );
      const app = new AppSupervisor(this.#context, announce.appId, config, "Inactive", true);
      this.#apps.set(announce.appId, app);
      app.adopt(SessionServerHandle.join(channel, announce.pid, channelClosed, app));
      hold(app.whenSettled(), this.#settleDeadlineMs());
    }, announce.appId);
  }

  /**
   * Stops every app (SetState(NotRunning); SIGTERM, then SIGKILL for those that do not exit within
   * `stopTimeoutMs`), terminates the preloaded servers, and resolves once every process is
   * reaped. Later calls reject INVALID_STATE. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#parkedWatch);
    this.#parkedWatch = undefined;
    this.#socketWatch?.close();
    this.#socketWatch = undefined;
    this.#health.stop();
    const pool = this.#pool.close();
    await this.#queue.enqueue(async () => {
      await Promise.all([...this.#apps.values()].map((app) => app.shutdown()));
    });
    await pool;
    this.#hub.closeAll();
  }

  #warnIfRunningSources(): void {
    if (warnedAboutSources || this.#options.sessionServerCommand[1] !== SESSION_SERVER_LAYOUT.main)
      return;
    warnedAboutSources = true;
    const status = sessionServerBuildStatus();
    const reason = status.fresh ? "the build became fresh meanwhile" : status.reason;
    this.#logger.warn(
      { reason, command: this.#options.sessionServerCommand },
      `running the session server from its sources (several times slower to start) because ${reason}; run \`bun run build\``,
    );
  }

  #restart(app: AppSupervisor): void {
    this.#queue
      .enqueue((hold) => {
        if (this.#apps.get(app.appId) !== app || app.phase !== "launching") return;
        if (this.#closing) return app.stop();
        app.launch(true);
        hold(app.whenSettled(), this.#settleDeadlineMs());
      }, app.appId)
      .catch((error) => this.#logger.error({ err: error, appId: app.appId }, "restart failed"));
  }

  #park(app: AppSupervisor): void {
    this.#queue
      .enqueue(async (hold) => {
        if (this.#apps.get(app.appId) !== app || this.#closing) return;
        await app.park();
        hold(app.whenSettled(), this.#settleDeadlineMs());
      }, app.appId)
      .catch((error) => this.#logger.error({ err: error, appId: app.appId }, "parking failed"));
  }

  /**
   * Watches the parked apps' sockets for a waiting client (no accept: the session server woken
   * for it accepts the connection from the backlog): on a worker thread waiting in poll(2)
   * ({@link ParkedSocketWatch}), so an idle manager has no timer; if that thread fails, every
   * PARKED_POLL_MS on this one.
   */
  #watchParked(): void {
    if (this.#closing) return;
    if (this.#socketWatchFailed) {
      this.#pollParked();
      return;
    }
    const apps = [...this.#apps.values()].filter((app) => app.parked && !this.#waking.has(app));
    if (apps.length === 0 && this.#socketWatch === undefined) return;
    this.#socketWatch ??= new ParkedSocketWatch({
      onPending: (fds) => {
        for (const app of this.#apps.values()) {
          if (app.parked && app.parkedSockets.some((socket) => fds.includes(socket.fd))) {
            this.#wake(app);
          }
        }
      },
      onFailed: (message) => {
        this.#logger.error({ reason: message }, "parked-socket watch failed; polling instead");
        this.#socketWatchFailed = true;
        this.#socketWatch?.close();
        this.#socketWatch = undefined;
        this.#pollParked();
      },
    });
    this.#socketWatch.watch(
      apps.flatMap((app) => app.parkedSockets.filter((socket) => !socket.closed)).map((s) => s.fd),
    );
  }

  /** The fallback of {@link #watchParked}: one poll(2) for every parked socket per tick. */
  #pollParked(): void {
    const parked = () => [...this.#apps.values()].filter((app) => app.parked);
    if (this.#parkedWatch !== undefined || this.#closing || parked().length === 0) return;
    this.#parkedWatch = setInterval(() => {
      const apps = parked();
      if (apps.length === 0 || this.#closing) {
        clearInterval(this.#parkedWatch);
        this.#parkedWatch = undefined;
        return;
      }
      const waiting = OwnedSocket.withPendingConnections(apps.flatMap((app) => app.parkedSockets));
      for (const app of apps) {
        if (app.parkedSockets.some((socket) => waiting.has(socket))) this.#wake(app);
      }
    }, PARKED_POLL_MS);
  }

  #wake(app: AppSupervisor): void {
    if (this.#waking.has(app)) return;
    this.#waking.add(app);
    this.#queue
      .enqueue((hold) => {
        this.#waking.delete(app);
        if (this.#apps.get(app.appId) !== app || !app.parked || this.#closing) return;
        app.wake("Inactive");
        hold(app.whenSettled(), this.#settleDeadlineMs());
      }, app.appId)
      .catch((error) => this.#logger.error({ err: error, appId: app.appId }, "waking failed"))
      // Still parked (the wake failed or was not needed): watched again.
      .finally(() => this.#watchParked());
  }

  #forget(app: AppSupervisor): void {
    if (this.#apps.get(app.appId) === app) this.#apps.delete(app.appId);
    if (app.termination === undefined) return;
    this.#terminations.delete(app.appId);
    this.#terminations.set(app.appId, app.termination);
    if (this.#terminations.size > TERMINATIONS_KEPT) {
      const oldest = this.#terminations.keys().next().value;
      if (oldest !== undefined) this.#terminations.delete(oldest);
    }
  }

  #spawn(
    env: Record<string, string>,
    listener: SessionServerListener,
    listeningSockets?: readonly number[],
  ): SessionServerHandle {
    return SessionServerHandle.spawn(
      {
        command: this.#options.sessionServerCommand,
        env: { ...SESSION_SERVER_ENV_DEFAULTS, ...this.#options.env, ...env },
        listeningSockets,
      },
      listener,
      this.#options.launchSessionServer,
    );
  }

  #emitState(appId: string, state: SessionServerState): void {
    try {
      this.emit("stateChanged", appId, state);
    } catch (error) {
      this.#logger.error({ err: error, appId, state }, "a stateChanged listener threw");
    }
  }

  #emitQuietly<K extends "stats" | "pingAnswered">(name: K, ...args: ServerManagerEvents[K]): void {
    if (this.listenerCount(name) === 0) return;
    try {
      (this.emit as (name: K, ...args: ServerManagerEvents[K]) => boolean)(name, ...args);
    } catch (error) {
      this.#logger.error({ err: error, event: name }, "a listener threw");
    }
  }

  #snapshot(): AppSnapshot[] {
    return [...this.#apps.values()].map((app) => ({
      appId: app.appId,
      isStarted: app.server?.isRunning ?? false,
      state: app.state,
    }));
  }

  *#pingTargets(): Iterable<PingTarget> {
    for (const app of this.#apps.values()) {
      if (app.server !== undefined && app.isPingable) {
        yield { server: app.server, hung: (server) => app.hung(server) };
      }
    }
    for (const server of this.#pool.readyServers) {
      yield { server, hung: (hung) => this.#pool.hung(hung) };
    }
  }

  #app(appId: string, method: string): AppSupervisor {
    const app = this.#apps.get(appId);
    if (app === undefined)
      throw new RialtoError("UNKNOWN_APP", `${method}: unknown app "${appId}"`);
    return app;
  }

  #assertOpen(method: string): void {
    if (this.#closing)
      throw new RialtoError("INVALID_STATE", `${method}: the server manager is closed`);
  }

  #assertSocketFree(socketPath: string, method: string): void {
    for (const app of this.#apps.values()) {
      if (app.config.socketPath === socketPath) {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `${method}: socket ${socketPath} is already used by app "${app.appId}"`,
        );
      }
    }
  }

  /** The longest a queued call waits for the previous one's state change to settle. */
  #settleDeadlineMs(): number {
    const { readyTimeoutMs, transitionTimeoutMs, stopTimeoutMs } = this.#options;
    return readyTimeoutMs + transitionTimeoutMs + 2 * stopTimeoutMs + 1000;
  }
}
