import {
  type ApplicationState,
  ControlChannelEvents,
  ControlChannelMethods,
  type ControlParkResult,
  type ControlPingAck,
  type Empty,
  type LogLevel,
  MethodRouter,
  RialtoError,
  type RpcPeer,
  readConnectionLimits,
  type SessionServerState,
  type SetConfigurationParams,
  type StateChangedEvent,
  type StatsEvent,
  toRialtoError,
} from "@rialto/protocol";
import { releaseCodePages } from "@rialto/shm";
import { type AllocateSharedMemory, AvMemory } from "./av-memory.ts";
import type {
  ClientGateway,
  ClientGatewayOptions,
  CreateClientGateway,
  ResourceOwner,
} from "./client-gateway/index.ts";
import { type ClientListener, openClientListener, type PassedSockets } from "./client-listener.ts";
import { loadClientSessions } from "./clients-bundle.ts";
import { SessionServerExitCode } from "./exit-codes.ts";
import { LOG_LEVEL_VALUES, type SessionServerLogger } from "./logger.ts";
import { StatsReporter } from "./stats-reporter.ts";

/** The deadline of a ping's heartbeat when the manager names none, ms. */
const DEFAULT_PING_DEADLINE_MS = 1000;

/** Options of {@link SessionServer}. */
export interface SessionServerOptions {
  logger: SessionServerLogger;
  /** The app announced in joined mode; SetConfiguration must then name the same app. */
  appId?: string;
  /** Creates the AV memfd (an OS boundary); default a sealed memfd via @rialto/shm. */
  allocateSharedMemory?: AllocateSharedMemory;
  /** Owners of media resources (pipelines, key sessions, web audio) freed on Inactive. */
  resourceOwners?: readonly ResourceOwner[];
  /**
   * Builds the client gateway when the first client connects; default the app's client
   * sessions over retry-RPC.
   */
  createClientGateway?: CreateClientGateway;
  /** How long the last control event may take to reach the OS before exiting, ms; default 2000. */
  flushTimeoutMs?: number;
  /**
   * Takes the listening sockets the manager passed before a SetConfiguration with
   * `socketsPassed` (an OS boundary: by default the SCM_RIGHTS record on the fd channel, fd 4).
   * Without it such a configuration fails.
   */
  receivePassedSockets?: () => PassedSockets;
  /**
   * Whether an idle server gives back the code pages it is not running (see
   * `#releaseCodePagesWhenIdle`): for a session server that is a process of its own. Default
   * false: in process, the pages are the host's.
   */
  releaseCodePagesWhenIdle?: boolean;
}

/** Longest reason sent with a state change (DiagnosticText on the wire). */
const MAX_REASON_LENGTH = 1024;

/** The clients' counters before the first client connected (no gateway yet). */
const NO_CLIENT_STATS: Omit<StatsEvent, "avMemoryBytes"> = {
  clients: 0,
  rpcCalls: 0,
  rpcRetransmits: 0,
  rpcReconnects: 0,
  rpcMeanMs: 0,
  pipelines: [],
};

/**
 * The session server's state machine (SPEC 3, 5): serves the control channel's methods, owns
 * the client listener, the client gateway and the AV shared memory, and decides when the
 * process exits ({@link exitCode}). State changes run one at a time in arrival order; each
 * request is checked against the state the queued changes lead to, answered at once with `{}`
 * or `INVALID_STATE`, and its outcome reported later with `control/stateChanged`.
 */
export class SessionServer implements AsyncDisposable {
  /** Handlers of the control channel's methods (`control/*`). */
  readonly router: MethodRouter<RpcPeer>;
  readonly #logger: SessionServerLogger;
  readonly #options: SessionServerOptions;
  readonly #exit = Promise.withResolvers<number>();
  readonly #resourceOwners: ResourceOwner[];
  readonly #stats: StatsReporter;
  #state: SessionServerState = "Uninitialised";
  /** The state once every accepted change has run; requests are checked against it. */
  #planned: SessionServerState = "Uninitialised";
  #queue: Promise<void> = Promise.resolve();
  #control: RpcPeer | undefined;
  #config: SetConfigurationParams | undefined;
  #listener: ClientListener | undefined;
  /** What the gateway is built with once a client connects (set on SetConfiguration). */
  #gatewayOptions: Omit<ClientGatewayOptions, "applicationState"> | undefined;
  #gateway: ClientGateway | undefined;
  #applicationState: ApplicationState = "Inactive";
  #memory: AvMemory | undefined;
  /** Set by a stop from outside the queue (signal, lost channel): queued work bails out. */
  #stopping = false;
  /** Set once the final cleanup began. */
  #exiting = false;
  /** Health checks in a row that found the server unused; reset when a client comes. */
  #idlePings = 0;

  constructor(options: SessionServerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#resourceOwners = [...(options.resourceOwners ?? [])];
    this.#stats = new StatsReporter({
      collect: () => this.#collectStats(),
      busy: (report) => this.#inUse(report),
      send: (report) => {
        try {
          this.#control?.emit(ControlChannelEvents.stats, report);
        } catch (error) {
          this.#logger.warn({ err: toRialtoError(error) }, "stats report not sent");
        }
      },
    });
    this.router = new MethodRouter<RpcPeer>()
      .handle(ControlChannelMethods.setConfiguration, (params) => this.#setConfiguration(params))
      .handle(ControlChannelMethods.setState, ({ state }) => {
        const method = ControlChannelMethods.setState.name;
        if (state === "NotRunning") {
          const from: SessionServerState[] = ["Uninitialised", "Inactive", "Active"];
          return this.#accept(method, state, from, () =>
            this.#cleanUpAndExit(SessionServerExitCode.Stopped, { state }),
          );
        }
        if (state === "Active")
          return this.#accept(method, state, ["Inactive"], () => this.#activate());
        return this.#accept(method, state, ["Active"], () => this.#deactivate());
      })
      .handle(ControlChannelMethods.setLogLevel, ({ level }) => this.#setLogLevel(level))
      .handle(ControlChannelMethods.ping, ({ id, deadlineMs }) => this.#ping(id, deadlineMs))
      .handle(ControlChannelMethods.park, () => this.#park());
  }

  /**
   * `control/park`: stops as for SetState(NotRunning) if nothing uses the server, decided and
   * begun in one turn of the event loop. The listener closes before anything else runs, so a
   * client that connects from then on waits in the backlog of the socket the manager keeps (and
   * wakes the parked app), and one accepted before counts as a use: none is ever dropped.
   */
  #park(): ControlParkResult {
    const reason = this.#parkRefusal();
    if (reason !== undefined) {
      this.#logger.debug({ reason }, "not parked");
      return { parked: false, reason };
    }
    this.#accept(ControlChannelMethods.park.name, "NotRunning", ["Inactive"], () =>
      this.#cleanUpAndExit(SessionServerExitCode.Stopped, { state: "NotRunning" }),
    );
    this.#listener?.close();
    this.#logger.info("parked: stopping with no client");
    return { parked: true };
  }

  /** Why the server cannot be parked now; undefined when it can. */
  #parkRefusal(): string | undefined {
    if (this.#stopping || this.#exiting) return "stopping already";
    if (this.#config === undefined || this.#planned !== "Inactive" || this.#state !== "Inactive") {
      return `state ${this.#state}${this.#planned === this.#state ? "" : ` (changing to ${this.#planned})`}, not Inactive`;
    }
    const connections = this.#gateway?.connectionCount ?? 0;
    // A side channel accepted and not claimed is a client between its two connects.
    const sideChannels = this.#listener?.unclaimedSideChannels ?? 0;
    const report = this.#collectStats();
    const clients = report?.clients ?? 0;
    const pipelines = report?.pipelines.length ?? 0;
    if (connections > 0 || sideChannels > 0 || clients > 0 || pipelines > 0) {
      return `in use: ${connections} connection(s), ${sideChannels} side channel(s) unclaimed, ${clients} client(s), ${pipelines} pipeline(s)`;
    }
    // Stopping would remove the socket files it created: nobody would be left listening.
    if (this.#config.socketsPassed !== true) return "its sockets are its own, not a manager's";
    return undefined;
  }

  /**
   * A health-check ping (SPEC 3 sequence 5, Rialto's heartbeat): reaches every pipeline's render
   * loop and every Running client through the gateway, and answers once all did or the deadline
   * passed; `ok: false` when a render loop missed it.
   */
  async #ping(id: number, deadlineMs = DEFAULT_PING_DEADLINE_MS): Promise<ControlPingAck> {
    // The health check wakes an idle server anyway: the one moment to see whether stats changed.
    this.#stats.poke();
    const outcome = await this.#gateway?.heartbeat?.(deadlineMs);
    this.#releaseCodePagesWhenIdle(deadlineMs);
    if (outcome === undefined || (outcome.ok && outcome.late.length === 0)) {
      this.#logger.debug({ id }, "control ping");
      return { id, ok: true };
    }
    // Only a late worker of ours is worth a warning; a late client is the client's business.
    this.#logger[outcome.ok ? "debug" : "warn"](
      { id, late: outcome.late, ok: outcome.ok },
      "heartbeat missed its deadline",
    );
    return { id, ok: outcome.ok, late: outcome.late };
  }

  /** The clients' and pipelines' counters with the AV memory's size; undefined: no gateway stats. */
  #collectStats(): StatsEvent | undefined {
    const stats = this.#gateway === undefined ? NO_CLIENT_STATS : this.#gateway.stats?.();
    return stats && { ...stats, avMemoryBytes: this.#memory?.size ?? 0 };
  }

  /** Whether anyone uses the server: a client connected, or a pipeline alive (grace period). */
  #inUse(report: StatsEvent): boolean {
    return (
      report.clients > 0 || report.pipelines.length > 0 || (this.#gateway?.connectionCount ?? 0) > 0
    );
  }

  /**
   * Gives back the code pages start-up and the clients touched ({@link releaseCodePages}) once
   * a configured server has stayed unused (Inactive, or Active with no client) from one health
   * check to the next: once per idle spell, again only after a client came. An idle server then
   * keeps resident little more than what its pings run (BENCHMARKS.md, device-scale step 7).
   * The release costs tens of ms of CPU with what faults back in after it, and the manager pings
   * every server at the same moment, so it waits a random part of the ping's deadline: fifty
   * servers releasing at once starved apps starting beside them past their READY timer.
   */
  #releaseCodePagesWhenIdle(deadlineMs: number): void {
    if (!this.#options.releaseCodePagesWhenIdle || this.#config === undefined) return;
    const report = this.#collectStats();
    if (report === undefined || this.#inUse(report)) {
      this.#idlePings = 0;
      return;
    }
    this.#idlePings += 1;
    if (this.#idlePings !== 2 || this.#exiting) return;
    const timer = setTimeout(() => {
      if (this.#exiting) return;
      const started = performance.now();
      try {
        const { mappings, bytes } = releaseCodePages();
        const ms = Math.round((performance.now() - started) * 10) / 10;
        this.#logger.debug({ mappings, bytes, ms }, "idle: code pages released");
      } catch (error) {
        this.#logger.warn({ err: toRialtoError(error) }, "idle: code pages not released");
      }
    }, Math.random() * deadlineMs);
    timer.unref();
  }

  /** The state last reported to the manager. */
  get state(): SessionServerState {
    return this.#state;
  }

  /** The client socket path once configured. */
  get socketPath(): string | undefined {
    return this.#config?.socketPath;
  }

  /** Resolves with the process exit code once the session server has cleaned up and stopped. */
  get exitCode(): Promise<number> {
    return this.#exit.promise;
  }

  /**
   * Adds an owner of media resources (pipelines, key sessions, web-audio players): it is asked
   * to free everything on Active → Inactive and before stopping, before the shared memory goes.
   */
  addResourceOwner(owner: ResourceOwner): void {
    this.#resourceOwners.push(owner);
  }

  /** Starts using `control` as the control channel: reports `Uninitialised`, its first message. */
  attachControl(control: RpcPeer): void {
    this.#control = control;
    this.#report({ state: "Uninitialised" });
  }

  /**
   * Stops from outside the state machine (signal, lost control channel): lets the running change
   * bail out, frees everything, closes clients and the socket, resolves {@link exitCode} with
   * `code`. No state is reported. Idempotent.
   */
  async stop(code: number, reason: string): Promise<void> {
    if (this.#stopping || this.#exiting) return;
    this.#stopping = true;
    this.#logger.warn({ reason, exitCode: code }, "stopping");
    await this.#queue;
    await this.#cleanUpAndExit(code, undefined);
  }

  /** Reports Error with `reason`, cleans up and exits 1 at once (internal faults). Idempotent. */
  async crash(reason: string): Promise<void> {
    if (this.#stopping || this.#exiting) return;
    this.#stopping = true;
    await this.#cleanUpAndExit(SessionServerExitCode.Error, {
      state: "Error",
      reason: clip(reason),
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop(SessionServerExitCode.Terminated, "disposed");
  }

  #setLogLevel(level: LogLevel): Empty {
    const from = this.#logger.level;
    // Logged under whichever of the two levels is more verbose, so the change always shows.
    const quieter = LOG_LEVEL_VALUES[level] ?? Infinity;
    if (quieter > (LOG_LEVEL_VALUES[from] ?? Infinity)) {
      this.#logger.info({ from, to: level }, "log level changed");
      this.#logger.level = level;
    } else {
      this.#logger.level = level;
      this.#logger.info({ from, to: level }, "log level changed");
    }
    return {};
  }

  #setConfiguration(params: SetConfigurationParams): Empty {
    const method = ControlChannelMethods.setConfiguration.name;
    const announced = this.#options.appId;
    if (
      announced !== undefined &&
      params.appId !== announced &&
      this.#planned === "Uninitialised"
    ) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `"${method}": app "${params.appId}" is not "${announced}", the app this session server announced`,
      );
    }
    // The app's level applies from this call's first line on (`warn` lets no info line through).
    if (this.#planned === "Uninitialised" && !this.#stopping) this.#logger.level = params.logLevel;
    return this.#accept(method, params.targetState, ["Uninitialised"], () =>
      this.#configure(params),
    );
  }

  /** Admits a state change if the planned state allows it and queues its work. */
  #accept(
    method: string,
    target: SessionServerState,
    from: readonly SessionServerState[],
    work: () => Promise<void> | void,
  ): Empty {
    if (this.#stopping || this.#exiting || !from.includes(this.#planned)) {
      throw new RialtoError(
        "INVALID_STATE",
        `"${method}" to ${target} is not allowed in state ${this.#exiting ? this.#state : this.#planned}`,
      );
    }
    this.#planned = target;
    this.#logger.info({ method, target }, "state change accepted");
    this.#queue = this.#queue
      .then(() => (this.#stopping ? undefined : work()))
      .catch((error) =>
        this.#fail(`"${method}" to ${target} failed: ${toRialtoError(error).message}`),
      );
    return {};
  }

  async #configure(params: SetConfigurationParams): Promise<void> {
    this.#config = params;
    if (this.#options.appId === undefined) this.#logger.setBindings({ appId: params.appId });
    this.#logger.level = params.logLevel;
    const connectionLimits = readConnectionLimits(process.env);
    this.#listener = await openClientListener(
      params.socketPath,
      params.socketPermissions,
      connectionLimits,
      {
        passed: params.socketsPassed === true ? this.#passedSockets() : undefined,
        onAccept: () => {
          this.#idlePings = 0;
          this.#openGateway();
          this.#stats.poke();
        },
      },
    );
    if (this.#stopping) return;
    this.#gatewayOptions = {
      logger: this.#logger,
      resources: params.resources,
      playback: params.playback,
      clientGracePeriodMs: params.clientGracePeriodMs,
      avMemory: () => this.#memory,
      allowedUids: params.allowedUids,
      connectionLimits,
      onClientsChanged: () => this.#stats.poke(),
    };
    this.#stats.start();
    this.#logger.info({ socketPath: params.socketPath }, "listening for clients");
    if (params.targetState === "Active") {
      this.#activate();
    } else {
      this.#report({ state: "Inactive" });
      collectWhenIdle();
    }
  }

  /**
   * Builds the client gateway on the first accepted connection (before the listener hands the
   * connection over, so the gateway serves it). An app waiting Inactive with no client never
   * loads the client side: the sessions, pipelines, media engines and keys are a third of the
   * session server's code, its start-up and idle memory.
   */
  #openGateway(): void {
    const options = this.#gatewayOptions;
    if (this.#gateway !== undefined || options === undefined || this.#listener === undefined) {
      return;
    }
    let create = this.#options.createClientGateway;
    if (create === undefined) {
      const started = performance.now();
      try {
        const loaded = loadClientSessions();
        create = loaded.create;
        const ms = Math.round((performance.now() - started) * 10) / 10;
        this.#logger.debug({ from: loaded.from, ms }, "client side loaded");
      } catch (error) {
        // A broken installation (the clients bundle missing): nothing can serve a client.
        void this.#fail(`cannot load the client side: ${toRialtoError(error).message}`);
        return;
      }
    }
    this.#gateway = create({ ...options, applicationState: this.#applicationState });
    this.#gateway.start(this.#listener);
  }

  #passedSockets(): PassedSockets {
    const receive = this.#options.receivePassedSockets;
    if (receive === undefined) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        "control/setConfiguration: socketsPassed, but this session server has no fd channel",
      );
    }
    const sockets = receive();
    this.#logger.debug(sockets, "serving the sockets the manager passed");
    return sockets;
  }

  #activate(): void {
    const config = this.#config as SetConfigurationParams;
    this.#memory = AvMemory.allocate(config.resources, this.#options.allocateSharedMemory);
    this.#logger.info({ bytes: this.#memory.size }, "AV shared memory allocated");
    this.#tellClients("Running");
    this.#report({ state: "Active" });
  }

  async #deactivate(): Promise<void> {
    await this.#releaseResources();
    if (this.#stopping) return;
    this.#freeMemory();
    this.#tellClients("Inactive");
    this.#report({ state: "Inactive" });
    collectWhenIdle();
  }

  async #releaseResources(): Promise<void> {
    for (const owner of this.#resourceOwners) await owner.releaseAllResources();
    await this.#gateway?.releaseAllResources();
  }

  #freeMemory(): void {
    if (this.#memory === undefined) return;
    this.#memory.close();
    this.#memory = undefined;
    this.#logger.info("AV shared memory freed");
  }

  #tellClients(state: ApplicationState): void {
    this.#applicationState = state;
    this.#gateway?.setApplicationState(state);
  }

  async #fail(reason: string): Promise<void> {
    this.#logger.error({ reason }, "state change failed");
    // A stop from outside is already cleaning up; it reports nothing, and neither do we.
    if (this.#stopping || this.#exiting) return;
    await this.#cleanUpAndExit(SessionServerExitCode.Error, {
      state: "Error",
      reason: clip(reason),
    });
  }

  /**
   * The end of every path: the cleanup of Active → Inactive (resources, shared memory), then
   * clients told Unknown and closed, the socket files removed, `event` reported and flushed.
   */
  async #cleanUpAndExit(code: number, event: StateChangedEvent | undefined): Promise<void> {
    if (this.#exiting) return;
    this.#exiting = true;
    this.#stats.stop();
    try {
      await this.#releaseResources();
    } catch (error) {
      this.#logger.error(
        { err: toRialtoError(error) },
        "releasing resources failed while stopping",
      );
    }
    this.#freeMemory();
    this.#tellClients("Unknown");
    this.#gateway?.closeAll();
    this.#listener?.close();
    if (event !== undefined) this.#report(event);
    await this.#flushControl();
    this.#control?.close();
    this.#logger.info({ exitCode: code }, "session server exiting");
    this.#exit.resolve(code);
  }

  #report(event: StateChangedEvent): void {
    this.#state = event.state;
    if (event.state === "Error" || event.state === "NotRunning") this.#planned = event.state;
    // Before SetConfiguration the app's log level is not known yet: its first line is debug.
    if (event.state === "Uninitialised") this.#logger.debug(event, "state changed");
    else this.#logger.info(event, "state changed");
    this.#control?.emit(ControlChannelEvents.stateChanged, event);
  }

  /** Waits until the control channel handed every queued byte to the OS (bounded). */
  async #flushControl(): Promise<void> {
    const deadline = performance.now() + (this.#options.flushTimeoutMs ?? 2000);
    while ((this.#control?.transport?.bufferedBytes ?? 0) > 0 && performance.now() < deadline) {
      await Bun.sleep(5);
    }
  }
}

/**
 * Starts a garbage collection now that the server goes idle (configured, or back to Inactive),
 * without waiting for it: the manager turns Bun's GC timer off in session servers (it woke an
 * idle process several times a second), so what start-up or a playback left is collected here.
 */
function collectWhenIdle(): void {
  Bun.gc(false);
}

function clip(reason: string): string {
  return reason.length > MAX_REASON_LENGTH
    ? `${reason.slice(0, MAX_REASON_LENGTH - 3)}...`
    : reason;
}
