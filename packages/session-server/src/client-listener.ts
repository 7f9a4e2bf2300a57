import {
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  InputScheduler,
  listenUnix,
  OutputBudget,
  RialtoError,
  type SocketTransport,
  sideChannelPath,
  toRialtoError,
  type UnixListener,
} from "@rialto/protocol";
import { closeFd, type FdChannel, SideChannelAcceptor } from "@rialto/shm";

/** Largest path `bind(2)` takes (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * How often the fd side channel's backlog is drained while a client may be connecting, ms. The
 * side listener is not on the event loop: it is drained on a timer that runs from each accepted
 * RPC connection (a client connects there first, then to the side channel) for
 * {@link SIDE_CHANNEL_WATCH_MS}, and for as long as accepted side connections wait to be claimed.
 * So nobody can lock clients out by filling the kernel's backlog (the next RPC connection drains
 * it; connections that never send a token are closed by the acceptor's caps and timeout), and an
 * idle session server has no timer at all.
 */
export const SIDE_CHANNEL_SWEEP_MS = 50;

/**
 * How long after an RPC connection arrived the side channel is still drained, ms: longer than a
 * client retries a full backlog (1 s).
 */
export const SIDE_CHANNEL_WATCH_MS = 2000;

/** Listening sockets the server manager bound and passed (SetConfiguration's `socketsPassed`). */
export interface PassedSockets {
  /** The stream socket listening at the client socket path. */
  rpc: number;
  /** The SOCK_SEQPACKET socket listening at its fd side channel path. */
  sideChannel: number;
}

/** Options of {@link openClientListener}. */
export interface ClientListenerOptions {
  /** Serve these sockets instead of binding the paths (the files stay the manager's). */
  passed?: PassedSockets;
  /** Called for every accepted RPC connection (before the handler sees it). */
  onAccept?: () => void;
}

/**
 * The session server's listening sockets for the app's clients: the RPC socket at `path` and the
 * fd side channel at {@link sideChannelPath}. Created on SetConfiguration, closed (both files
 * removed) on NotRunning or failure. Connections that arrive before a handler is set wait for it.
 */
export interface ClientListener extends AsyncDisposable {
  /** The client socket path (SetConfiguration's `socketPath`). */
  readonly path: string;
  /** The fd side-channel socket path. */
  readonly sideChannelPath: string;
  /** Sets the handler of every accepted RPC connection (queued ones are handed over at once). */
  onConnection(handler: (transport: SocketTransport) => void): void;
  /**
   * The side-channel connection that presented `token` (16 bytes), now owned by the caller;
   * `undefined` when none did.
   */
  claimSideChannel(token: Uint8Array): FdChannel | undefined;
  /** Output queued for all client connections together (bounded by `maxTotalBufferedBytes`). */
  readonly outputBudget: OutputBudget;
  /** Side-channel connections accepted and not claimed yet: clients on their way in. */
  readonly unclaimedSideChannels: number;
  /** Stops accepting and removes both socket files; open connections stay open. Idempotent. */
  close(): void;
}

/**
 * Opens the client sockets with file mode `mode`, or serves the ones the manager passed
 * (`options.passed`; then `mode` is the manager's business and closing leaves the files). A
 * stale socket file is replaced; a socket a live server listens on is never stolen
 * (PERMISSION_DENIED). If the side channel cannot be opened, the RPC socket is closed again, so
 * a failure leaves nothing behind. Every connection gets the output limits of `limits` (per
 * connection, pause reading, total).
 */
export async function openClientListener(
  path: string,
  mode: number,
  limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  options: ClientListenerOptions = {},
): Promise<ClientListener> {
  const { passed, onAccept } = options;
  const sidePath = sideChannelPath(path);
  if (Buffer.byteLength(sidePath) > MAX_SOCKET_PATH_BYTES) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `socket path "${path}" is too long: its side channel "${sidePath}" exceeds ${MAX_SOCKET_PATH_BYTES} bytes`,
    );
  }
  let handler: ((transport: SocketTransport) => void) | undefined;
  const early: SocketTransport[] = [];
  const outputBudget = new OutputBudget(limits.maxTotalBufferedBytes);
  let watchUntil = 0;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const acceptorOptions = {
    mode,
    // As many clients of one uid as may connect at once; silent connections go first.
    maxPendingPerUid: limits.maxConnections,
    maxPending: 2 * limits.maxConnections,
  };
  let side: SideChannelAcceptor | undefined;
  const acceptor = (): SideChannelAcceptor => {
    if (side !== undefined) return side;
    if (passed === undefined) throw new RialtoError("INTERNAL", "the side channel is closed");
    try {
      side = SideChannelAcceptor.adopt(passed.sideChannel, sidePath, acceptorOptions);
    } catch (error) {
      throw new RialtoError(
        "INTERNAL",
        `cannot serve the side channel the manager passed (fd ${passed.sideChannel}): ${toRialtoError(error).message}`,
        { cause: error },
      );
    }
    return side;
  };
  const sweep = () => {
    try {
      side?.sweep();
    } catch {
      // A failing accept (e.g. EMFILE) is retried at the next sweep.
    }
    if ((side?.pendingCount ?? 0) === 0 && performance.now() >= watchUntil) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  const watchSideChannel = () => {
    watchUntil = performance.now() + SIDE_CHANNEL_WATCH_MS;
    if (sweeper !== undefined) return;
    sweeper = setInterval(sweep, SIDE_CHANNEL_SWEEP_MS);
    sweeper.unref();
  };
  const rpc: UnixListener = await listenUnix(
    path,
    (transport) => {
      try {
        acceptor();
      } catch (error) {
        transport.close();
        throw error;
      }
      watchSideChannel();
      onAccept?.();
      if (handler === undefined) early.push(transport);
      else handler(transport);
    },
    {
      fd: passed?.rpc,
      mode,
      maxBufferedBytes: limits.maxBufferedBytes,
      pauseReadingAboveBytes: limits.pauseReadingAboveBytes,
      yieldAfterMs: limits.yieldAfterMs,
      // Every client's input together: two shares per turn of the event loop.
      scheduler: new InputScheduler(2 * limits.yieldAfterMs),
      writeStallTimeoutMs: limits.writeStallTimeoutMs,
      budget: outputBudget,
    },
  );
  try {
    // A passed side channel is adopted with the first client (the manager bound it: clients
    // wait in its backlog): adopting checks it with getsockopt, which would load bun:ffi into
    // every idle session server.
    if (passed === undefined) side = SideChannelAcceptor.listen(sidePath, acceptorOptions);
  } catch (error) {
    rpc.close();
    const cause = toRialtoError(error);
    throw new RialtoError(
      "PERMISSION_DENIED",
      `cannot listen on side channel ${sidePath}: ${cause.message}`,
      { cause: error },
    );
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(sweeper);
    rpc.close();
    if (side !== undefined) side.close();
    else if (passed !== undefined) closeFd(passed.sideChannel);
    for (const transport of early.splice(0)) transport.close();
  };
  return {
    path,
    sideChannelPath: sidePath,
    onConnection(next) {
      handler = next;
      for (const transport of early.splice(0)) next(transport);
    },
    claimSideChannel: (token) => {
      if (closed && side === undefined) return undefined;
      const channel = acceptor().claim(token);
      // Others may be waiting to be claimed: keep draining and timing them out.
      if (acceptor().pendingCount > 0) watchSideChannel();
      return channel;
    },
    outputBudget,
    get unclaimedSideChannels() {
      return side?.pendingCount ?? 0;
    },
    close,
    [Symbol.asyncDispose]: async () => close(),
  };
}
