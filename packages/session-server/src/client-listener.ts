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
import { type FdChannel, SideChannelAcceptor } from "@rialto/shm";

/** Largest path `bind(2)` takes (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * How often the fd side channel's backlog is drained, ms. The side listener is not on the event
 * loop; draining it on a timer (not only when a client registers) means nobody can lock clients
 * out by filling the kernel's backlog: connections that never send a token are closed by the
 * acceptor's per-uid cap and timeout.
 */
export const SIDE_CHANNEL_SWEEP_MS = 50;

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
  /** Stops accepting and removes both socket files; open connections stay open. Idempotent. */
  close(): void;
}

/**
 * Opens the client sockets with file mode `mode`. A stale socket file is replaced; a socket a live
 * server listens on is never stolen (PERMISSION_DENIED). If the side channel cannot be opened,
 * the RPC socket is closed again, so a failure leaves nothing behind. Every connection gets the
 * output limits of `limits` (per connection, pause reading, total).
 */
export async function openClientListener(
  path: string,
  mode: number,
  limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
): Promise<ClientListener> {
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
  const rpc: UnixListener = await listenUnix(
    path,
    (transport) => (handler === undefined ? early.push(transport) : handler(transport)),
    {
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
  let side: SideChannelAcceptor;
  try {
    side = SideChannelAcceptor.listen(sidePath, {
      mode,
      // As many clients of one uid as may connect at once; silent connections go first.
      maxPendingPerUid: limits.maxConnections,
      maxPending: 2 * limits.maxConnections,
    });
  } catch (error) {
    rpc.close();
    const cause = toRialtoError(error);
    throw new RialtoError(
      "PERMISSION_DENIED",
      `cannot listen on side channel ${sidePath}: ${cause.message}`,
      { cause: error },
    );
  }
  const sweeper = setInterval(() => {
    try {
      side.sweep();
    } catch {
      // A failing accept (e.g. EMFILE) is retried at the next sweep.
    }
  }, SIDE_CHANNEL_SWEEP_MS);
  sweeper.unref();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(sweeper);
    rpc.close();
    side.close();
    for (const transport of early.splice(0)) transport.close();
  };
  return {
    path,
    sideChannelPath: sidePath,
    onConnection(next) {
      handler = next;
      for (const transport of early.splice(0)) next(transport);
    },
    claimSideChannel: (token) => side.claim(token),
    outputBudget,
    close,
    [Symbol.asyncDispose]: async () => close(),
  };
}
