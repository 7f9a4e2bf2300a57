import { existsSync, readFileSync } from "node:fs";
import {
  ControlChannelEvents,
  ControlChannelMethods,
  type ControlParkResult,
  type ControlPingAck,
  connectFd,
  DEFAULT_CONNECTION_LIMITS,
  LISTENING_FDS_ENV,
  type LogLevel,
  type RequestedState,
  RialtoError,
  RpcPeer,
  type SessionServerState,
  type SetConfigurationParams,
  type StatsEvent,
  type Transport,
} from "@rialto/protocol";
import { FdChannel } from "@rialto/shm";

/**
 * What the manager queues for a session server that stops reading its control channel: a few
 * small messages at most, so 1 MiB or 10 s without progress mean it is wedged (it is then cut
 * off, which the manager handles as a broken channel).
 */
const CONTROL_CHANNEL_OUTPUT_LIMITS = {
  maxBufferedBytes: 1024 * 1024,
  writeStallTimeoutMs: DEFAULT_CONNECTION_LIMITS.writeStallTimeoutMs,
};

/** How a session server process ended; both fields are null for a joined process (not our child). */
export interface ExitInfo {
  exitCode: number | null;
  signal: string | null;
}

/** What a {@link SessionServerHandle} reports to whoever owns it (an app, or the preloaded pool). */
export interface SessionServerListener {
  /** A `control/stateChanged` event arrived. */
  stateChanged(server: SessionServerHandle, state: SessionServerState, reason?: string): void;
  /** The control channel closed while the process was still known to run. */
  channelLost(server: SessionServerHandle, cause?: RialtoError): void;
  /** The process is gone (reaped, or for a joined process: no longer exists). */
  exited(server: SessionServerHandle, exit: ExitInfo): void;
  /** A `control/stats` report arrived (media counters; only when they changed). */
  stats?(server: SessionServerHandle, report: StatsEvent): void;
}

/** The OS side of a session server: its pid, its end, and a way to signal it. */
export interface ProcessHandle {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  signal(signal: NodeJS.Signals): void;
  /** Starts watching a process we did not spawn (called once its channel closed). */
  watch?(): void;
}

/** Options for spawning a session server. */
export interface SpawnOptions {
  command: readonly string[];
  env: Record<string, string>;
  /**
   * The app's listening sockets (RPC, side channel), given to the process at spawn as its fds 5
   * and 6 ({@link LISTENING_FDS_ENV} names them); without them (a preloaded server, started
   * before its app is known) they go on its fd channel, fd 4, before SetConfiguration.
   */
  listeningSockets?: readonly number[];
}

/** Fds a spawned session server inherits its app's listening sockets on (RPC, side channel). */
const LISTENING_FDS = [5, 6] as const;

/** Sockets already inherited at spawn: SetConfiguration only says `socketsPassed`. */
const GIVEN_AT_SPAWN: SocketPassing = { sendFds() {}, close() {} };

/** Where a session server's listening sockets are passed (SCM_RIGHTS on its fd 4). */
export interface SocketPassing {
  sendFds(fds: readonly number[]): void;
  close(): void;
}

/**
 * A session server started by a {@link SessionServerLauncher}: its process, the transport of
 * its control channel once open (a rejection means it could not be opened), and where its
 * listening sockets go.
 */
export interface LaunchedSessionServer {
  readonly process: ProcessHandle;
  readonly controlChannel: Promise<Transport>;
  readonly sockets?: SocketPassing;
}

/**
 * How the manager starts a session server: the real one spawns a process
 * ({@link spawnSessionServerProcess}); a test may give an in-memory fake. Throws SPAWN_FAILED
 * when nothing could be started.
 */
export type SessionServerLauncher = (options: SpawnOptions) => LaunchedSessionServer;

/**
 * Spawns `command` with the control channel as its fd 3 (a socketpair) and the app's listening
 * sockets as its fds 5 and 6, or, when they are not known yet, as its fd 4 a
 * SOCK_SEQPACKET pair that carries them later (SCM_RIGHTS, which a Bun-managed
 * stream like the control channel would drop).
 */
export const spawnSessionServerProcess: SessionServerLauncher = (options) => {
  let child: Bun.Subprocess<"ignore", "inherit", "inherit">;
  const listening = options.listeningSockets;
  // Sockets known at spawn are inherited (no fd channel: the session server needs no bun:ffi
  // to take them); a preloaded server gets them on a SOCK_SEQPACKET pair at fd 4 later.
  const channel = listening === undefined ? FdChannel.pair() : undefined;
  try {
    child = Bun.spawn({
      cmd: [...options.command],
      env:
        listening === undefined
          ? options.env
          : { ...options.env, [LISTENING_FDS_ENV]: LISTENING_FDS.join(",") },
      stdio:
        listening === undefined
          ? ["ignore", "inherit", "inherit", "socket-fd", channel?.[1].fd]
          : ["ignore", "inherit", "inherit", "socket-fd", "ignore", ...listening],
    });
  } catch (error) {
    channel?.[0].close();
    throw new RialtoError(
      "SPAWN_FAILED",
      `cannot spawn session server ${JSON.stringify(options.command[0])}: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    channel?.[1].close();
  }
  const fd = child.stdio[3];
  return {
    process: {
      pid: child.pid,
      exited: child.exited.then(() => ({
        exitCode: child.exitCode,
        signal: child.signalCode === null ? null : String(child.signalCode),
      })),
      signal: (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    },
    controlChannel:
      typeof fd === "number"
        ? connectFd(fd, CONTROL_CHANNEL_OUTPUT_LIMITS)
        : Promise.reject(new Error("Bun.spawn returned no socket for stdio[3]")),
    sockets: channel?.[0] ?? GIVEN_AT_SPAWN,
  };
};

const JOINED_POLL_MS = 20;
let nextServerId = 1;

/**
 * The manager's handle on one session server process and its control channel: spawned by us with a socketpair
 * end as fd 3, or started from a shell and joined through the daemon's control socket. Owns the
 * process until it is gone: {@link ensureExit} escalates from waiting to SIGTERM to SIGKILL, and
 * a spawned child is always reaped (no zombies).
 */
export class SessionServerHandle implements AsyncDisposable {
  /** Unique per manager process; names the server in logs. */
  readonly id = nextServerId++;
  /** True when the process was started from outside and announced itself. */
  readonly joined: boolean;
  readonly channel: RpcPeer<unknown>;
  /** Health-check bookkeeping: an unanswered ping, and how many in a row went unanswered. */
  readonly health = { outstanding: false, failed: 0 };
  readonly #process: ProcessHandle;
  #listener: SessionServerListener | undefined;
  #exit: ExitInfo | undefined;
  #signalled = false;
  #channelOpen = true;
  /** Our end of the fd channel (the child's fd 4): how listening sockets reach it. */
  #fdChannel: SocketPassing | undefined;

  private constructor(
    channel: RpcPeer<unknown>,
    process: ProcessHandle,
    joined: boolean,
    channelClosed: Promise<RialtoError | undefined>,
    fdChannel?: SocketPassing,
  ) {
    this.channel = channel;
    this.#process = process;
    this.joined = joined;
    this.#fdChannel = fdChannel;
    channel.on(ControlChannelEvents.stateChanged, ({ state, reason }) => {
      this.#listener?.stateChanged(this, state, reason);
    });
    channel.on(ControlChannelEvents.stats, (report) => {
      this.#listener?.stats?.(this, report);
    });
    channelClosed.then((cause) => {
      this.#channelOpen = false;
      this.#process.watch?.();
      if (this.#exit === undefined) this.#listener?.channelLost(this, cause);
    });
    process.exited.then((exit) => {
      this.#exit = exit;
      this.#fdChannel?.close();
      this.#fdChannel = undefined;
      this.channel.close(new RialtoError("CONNECTION_LOST", `session server ${this.pid} exited`));
      this.#listener?.exited(this, exit);
    });
  }

  /**
   * Starts a session server with `launch` (default: a process, see
   * {@link spawnSessionServerProcess}) and returns at once (the channel opens in the
   * background). Throws SPAWN_FAILED when nothing can be started; one that starts and dies, or
   * whose channel cannot be opened, is reported through {@link SessionServerListener.exited}.
   */
  static spawn(
    options: SpawnOptions,
    listener: SessionServerListener,
    launch: SessionServerLauncher = spawnSessionServerProcess,
  ): SessionServerHandle {
    const { process, controlChannel, sockets } = launch(options);
    const closed = Promise.withResolvers<RialtoError | undefined>();
    const channel = new RpcPeer<unknown>({
      name: `session-server ${process.pid}`,
      onTransportClose: closed.resolve,
      // A session server that starts a frame and never finishes it is cut off (and then
      // treated as crashed) instead of holding up to a megabyte here for ever.
      frameTimeoutMs: DEFAULT_CONNECTION_LIMITS.frameTimeoutMs,
    });
    const server = new SessionServerHandle(channel, process, false, closed.promise, sockets);
    server.#listener = listener;
    controlChannel.then(
      (transport) => channel.attach(transport),
      (error: unknown) => {
        closed.resolve(
          new RialtoError("CONNECTION_LOST", `control channel of ${process.pid}: ${String(error)}`),
        );
        process.signal("SIGKILL");
      },
    );
    return server;
  }

  /**
   * Adopts a session server started from outside that announced itself on `channel` (the
   * daemon's control socket connection). Its end is detected when the channel closes and `pid`
   * no longer exists.
   */
  static join(
    channel: RpcPeer<unknown>,
    pid: number,
    channelClosed: Promise<RialtoError | undefined>,
    listener: SessionServerListener,
  ): SessionServerHandle {
    const server = new SessionServerHandle(channel, joinedProcess(pid), true, channelClosed);
    server.#listener = listener;
    return server;
  }

  /** The process id. */
  get pid(): number {
    return this.#process.pid;
  }

  /** Whether the process still runs (as far as we know). */
  get isRunning(): boolean {
    return this.#exit === undefined;
  }

  /** Whether the control channel is open. */
  get isConnected(): boolean {
    return this.#channelOpen && this.#exit === undefined;
  }

  /** True once we sent the process a signal (its exit is then our doing). */
  get signalled(): boolean {
    return this.#signalled;
  }

  /** How the process ended, once it did. */
  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  /** Resolves when the process is gone. */
  get exited(): Promise<ExitInfo> {
    return this.#process.exited;
  }

  /** Hands the server to a new owner (a preloaded server taken by an app). */
  bind(listener: SessionServerListener | undefined): void {
    this.#listener = listener;
  }

  /**
   * `control/setConfiguration`. With `sockets` (the app's listening sockets, see `AppSockets`)
   * they are sent on the fd channel first and the call says `socketsPassed`; a joined server,
   * which has no fd channel, binds the socket path itself.
   */
  configure(
    params: SetConfigurationParams,
    timeoutMs: number,
    sockets?: readonly number[],
  ): Promise<unknown> {
    if (sockets !== undefined && this.#fdChannel !== undefined) {
      try {
        this.#fdChannel.sendFds(sockets);
      } catch (error) {
        return Promise.reject(
          new RialtoError(
            "CONNECTION_LOST",
            `cannot pass the sockets to ${this.pid}: ${String(error)}`,
            {
              cause: error,
            },
          ),
        );
      }
      // The fd channel has done its one job.
      this.#fdChannel.close();
      this.#fdChannel = undefined;
      params = { ...params, socketsPassed: true };
    }
    return this.channel.call(ControlChannelMethods.setConfiguration, params, { timeoutMs });
  }

  /** `control/setState`. */
  setState(state: RequestedState, timeoutMs: number): Promise<unknown> {
    return this.channel.call(ControlChannelMethods.setState, { state }, { timeoutMs });
  }

  /** `control/park`: stop if unused; resolves with whether the session server took it. */
  park(timeoutMs: number): Promise<ControlParkResult> {
    return this.channel.call(ControlChannelMethods.park, {}, { timeoutMs });
  }

  /** `control/setLogLevel`. */
  setLogLevel(level: LogLevel, timeoutMs: number): Promise<unknown> {
    return this.channel.call(ControlChannelMethods.setLogLevel, { level }, { timeoutMs });
  }

  /**
   * `control/ping`: resolves with the answer (`ok: false` when one of the server's workers
   * missed `deadlineMs`).
   */
  ping(id: number, timeoutMs: number, deadlineMs?: number): Promise<ControlPingAck> {
    const params = deadlineMs === undefined ? { id } : { id, deadlineMs };
    return this.channel.call(ControlChannelMethods.ping, params, { timeoutMs });
  }

  /** Sends SIGKILL now. */
  kill(): void {
    this.#signal("SIGKILL");
  }

  /**
   * Makes sure the process ends: waits `graceMs` for it to exit by itself, then sends SIGTERM,
   * waits `graceMs` again, then SIGKILL. Resolves once it is gone (reaped).
   */
  async ensureExit(graceMs: number): Promise<ExitInfo> {
    if (this.#exit !== undefined) return this.#exit;
    if (await this.#exitWithin(graceMs)) return this.exited;
    this.#signal("SIGTERM");
    if (await this.#exitWithin(graceMs)) return this.exited;
    this.#signal("SIGKILL");
    return this.exited;
  }

  /** Terminates the process (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
  async terminate(graceMs: number): Promise<ExitInfo> {
    if (this.#exit !== undefined) return this.#exit;
    this.#signal("SIGTERM");
    if (await this.#exitWithin(graceMs)) return this.exited;
    this.#signal("SIGKILL");
    return this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate(1000);
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exit !== undefined) return;
    this.#signalled = true;
    this.#process.signal(signal);
    this.#process.watch?.();
  }

  #exitWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#process.exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

function joinedProcess(pid: number): ProcessHandle {
  const exited = Promise.withResolvers<ExitInfo>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let gone = false;
  const check = () => {
    if (gone || isAlive(pid)) return;
    gone = true;
    clearInterval(timer);
    exited.resolve({ exitCode: null, signal: null });
  };
  return {
    pid,
    exited: exited.promise,
    signal: (signal) => {
      if (gone) return;
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone: the watcher reports it.
      }
    },
    watch: () => {
      if (timer !== undefined || gone) return;
      timer = setInterval(check, JOINED_POLL_MS);
      check();
    },
  };
}

/** True while `pid` exists and is not a zombie (a zombie has exited; its parent reaps it). */
export function isAlive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    const text = readFileSync(stat, "utf8");
    // The state follows the command name, which is in parentheses and may contain spaces.
    return text.slice(text.lastIndexOf(")") + 2, text.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
