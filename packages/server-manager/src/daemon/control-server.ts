import {
  type ConnectionLimits,
  ControlChannelMethods,
  ControlSocketEvents,
  ControlSocketMethods,
  DEFAULT_CONNECTION_LIMITS,
  encodeJsonFrame,
  FrameType,
  InputScheduler,
  listenUnix,
  MethodRouter,
  OutputBudget,
  RialtoError,
  RpcPeer,
  toRialtoError,
  type UnixListener,
} from "@rialto/protocol";
import { socketPeerCredentials } from "@rialto/shm";
import type { Logger } from "pino";
import type { MonitorHandle } from "../monitor-hub.ts";
import type { ServerManager } from "../server-manager.ts";

/** What the daemon remembers about one control-socket connection. */
interface Connection {
  /** Set while the connection is a monitor (`monitor/announce` until `monitor/quit`). */
  monitor: MonitorHandle | undefined;
  /** Set once a session server joined through this connection (`control/announce`). */
  joinedAppId: string | undefined;
  /** Resolves when the connection closes (a joined session server's channel ends with it). */
  closed: PromiseWithResolvers<RialtoError | undefined>;
  /** The connecting process (SO_PEERCRED), or why the kernel could not tell. */
  peerPid: number | RialtoError;
}

type ControlPeer = RpcPeer<Connection>;

/** Misbehaviours of one control connection logged at warn level; later ones at debug. */
const WARNINGS_PER_CONNECTION = 3;

/** Open control connections by default: rialtoctl calls, monitors and one per joined server. */
export const DEFAULT_MAX_CONTROL_CONNECTIONS = 128;

/**
 * Largest frame body the daemon accepts, bytes: control calls are small (an initiate with its
 * config is about 1 KiB), so a peer cannot make it hold a megabyte per connection.
 */
export const MAX_CONTROL_FRAME_LENGTH = 64 * 1024;

/** Options of {@link startControlServer}. */
export interface ControlServerOptions {
  /** Path of the control socket. */
  path: string;
  /** File mode of the socket; default 0o600 (only the daemon's user). */
  mode?: number;
  logger: Logger;
  /**
   * What one connection may cost (default {@link DEFAULT_CONNECTION_LIMITS} with
   * `maxConnections` {@link DEFAULT_MAX_CONTROL_CONNECTIONS}); applied: `maxConnections`,
   * `frameTimeoutMs` and the output limits (`maxBufferedBytes`, `pauseReadingAboveBytes`,
   * `maxTotalBufferedBytes`, `writeStallTimeoutMs`, `yieldAfterMs`).
   */
  limits?: Partial<ConnectionLimits>;
}

/** The daemon's listening control socket; see {@link startControlServer}. */
export interface ControlServer extends AsyncDisposable {
  readonly path: string;
  /** Open connections (rialtoctl, monitors, joined session servers). */
  readonly connections: number;
  /** Stops accepting and removes the socket file; open connections stay until the daemon exits. */
  close(): void;
}

/**
 * Serves `manager` on a Unix control socket (SPEC 3.2): one `manager/*` method per call of SPEC
 * 3.1, the monitor messages of SPEC 4 (`monitor/announce` sends the state list before its reply,
 * so a monitor must listen for `monitor/message` before announcing), and `control/announce` for a
 * session server started from a shell. A connection that closes stops being a monitor.
 */
export async function startControlServer(
  manager: ServerManager,
  options: ControlServerOptions,
): Promise<ControlServer> {
  const router = createControlRouter(manager);
  const peers = new Set<ControlPeer>();
  const limits: ConnectionLimits = {
    ...DEFAULT_CONNECTION_LIMITS,
    maxConnections: DEFAULT_MAX_CONTROL_CONNECTIONS,
    ...options.limits,
  };
  const listener: UnixListener = await listenUnix(
    options.path,
    (transport) => {
      if (peers.size >= limits.maxConnections && !evictOne(peers, limits, options.logger)) {
        const refused = new RialtoError(
          "RESOURCE_EXHAUSTED",
          `too many control connections (limit ${limits.maxConnections})`,
        );
        options.logger.warn({ err: refused }, "control connection refused");
        transport.write(encodeJsonFrame(FrameType.Notice, { error: refused.toWire() }));
        transport.close(refused);
        return;
      }
      let complaints = 0;
      const connection: Connection = {
        monitor: undefined,
        joinedAppId: undefined,
        closed: Promise.withResolvers<RialtoError | undefined>(),
        peerPid: connectingPid(transport.fd),
      };
      const peer: ControlPeer = new RpcPeer<Connection>({
        name: "control-socket",
        router,
        data: connection,
        maxIncomingFrameLength: MAX_CONTROL_FRAME_LENGTH,
        frameTimeoutMs: limits.frameTimeoutMs,
        // A flood of bad frames must not become a flood of log lines: the first few per
        // connection at warn, the rest at debug.
        onError: (error) =>
          options.logger[++complaints <= WARNINGS_PER_CONNECTION ? "warn" : "debug"](
            { err: error },
            "control socket peer misbehaved",
          ),
        onTransportClose: (cause) => {
          peers.delete(peer);
          connection.monitor?.close();
          connection.monitor = undefined;
          connection.closed.resolve(cause);
        },
      });
      peers.add(peer);
      peer.attach(transport);
    },
    {
      mode: options.mode ?? 0o600,
      maxBufferedBytes: limits.maxBufferedBytes,
      pauseReadingAboveBytes: limits.pauseReadingAboveBytes,
      budget: new OutputBudget(limits.maxTotalBufferedBytes),
      writeStallTimeoutMs: limits.writeStallTimeoutMs,
      yieldAfterMs: limits.yieldAfterMs,
      scheduler: new InputScheduler(2 * limits.yieldAfterMs),
    },
  );
  return {
    path: listener.path,
    get connections() {
      return peers.size;
    },
    close: () => listener.close(),
    [Symbol.asyncDispose]: async () => listener.close(),
  };
}

/**
 * Makes room at the connection cap: closes the oldest connection that is neither a joined
 * session server (its app's control channel) nor a monitor, else the oldest monitor. False when
 * every connection is a joined session server.
 */
function evictOne(peers: Set<ControlPeer>, limits: ConnectionLimits, logger: Logger): boolean {
  const candidates = [...peers].filter((peer) => peer.data.joinedAppId === undefined);
  const victim = candidates.find((peer) => peer.data.monitor === undefined) ?? candidates.at(0);
  if (victim === undefined) return false;
  const error = new RialtoError(
    "RESOURCE_EXHAUSTED",
    `control connection closed to make room (limit ${limits.maxConnections} connections)`,
  );
  logger.warn({ err: error }, "control connection evicted");
  victim.writeRaw(encodeJsonFrame(FrameType.Notice, { error: error.toWire() }));
  peers.delete(victim);
  victim.close(error);
  return true;
}

function createControlRouter(manager: ServerManager): MethodRouter<ControlPeer> {
  const M = ControlSocketMethods;
  return new MethodRouter<ControlPeer>()
    .handle(M.initiateApplication, async ({ appId, state, config }) => {
      await manager.initiateApplication(appId, state, config);
      return {};
    })
    .handle(M.changeSessionServerState, async ({ appId, state }) => {
      await manager.changeSessionServerState(appId, state);
      return {};
    })
    .handle(M.getAppConnectionInfo, ({ appId }) => ({
      socketPath: manager.getAppConnectionInfo(appId),
    }))
    .handle(M.getState, ({ appId }) => {
      const state = manager.getState(appId);
      return state === undefined ? {} : { state };
    })
    .handle(M.listApplications, () => ({ applications: manager.listApplications() }))
    .handle(M.setLogLevel, async ({ level, appId }) => {
      await manager.setLogLevel(level, appId);
      return {};
    })
    .handle(M.monitorAnnounce, ({ appId }, peer) => {
      // A second announce on one connection replaces the first (no duplicate deliveries).
      peer.data.monitor?.close();
      peer.data.monitor = manager.addMonitor(
        (message) => peer.emit(ControlSocketEvents.monitorMessage, message),
        { appId },
      );
      return {};
    })
    .handle(M.monitorQuit, (_params, peer) => {
      peer.data.monitor?.close();
      peer.data.monitor = undefined;
      return {};
    })
    .handle(M.monitorReset, (_params, peer) => {
      if (peer.data.monitor === undefined) {
        throw new RialtoError(
          "INVALID_STATE",
          "monitor/reset: this connection is not a monitor (send monitor/announce first)",
        );
      }
      peer.data.monitor.reset();
      return {};
    })
    .handle(ControlChannelMethods.announce, async (params, peer) => {
      if (peer.data.joinedAppId !== undefined) {
        throw new RialtoError(
          "INVALID_STATE",
          `control/announce: this connection already serves app "${peer.data.joinedAppId}"`,
        );
      }
      // The manager will signal the announced pid: it must be the process on this connection,
      // not one a local caller names to have it killed.
      const { peerPid } = peer.data;
      if (peerPid instanceof RialtoError) throw peerPid;
      if (peerPid !== params.pid) {
        throw new RialtoError(
          "PERMISSION_DENIED",
          `control/announce: pid ${params.pid} is not the connecting process (${peerPid})`,
        );
      }
      await manager.adoptSessionServer(peer as RpcPeer<unknown>, params, peer.data.closed.promise);
      peer.data.joinedAppId = params.appId;
      return {};
    });
}

/** The pid of the process at the other end of `fd` (SO_PEERCRED), or the error saying why not. */
function connectingPid(fd: number): number | RialtoError {
  try {
    return socketPeerCredentials(fd).pid;
  } catch (error) {
    return new RialtoError(
      "PERMISSION_DENIED",
      `control/announce: cannot tell which process is connected: ${toRialtoError(error).message}`,
    );
  }
}
