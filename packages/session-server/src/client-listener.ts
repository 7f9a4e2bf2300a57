import {
  listenUnix,
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
  /** Stops accepting and removes both socket files; open connections stay open. Idempotent. */
  close(): void;
}

/**
 * Opens the client sockets with file mode `mode`. A stale socket file is replaced; a socket a live
 * server listens on is never stolen (PERMISSION_DENIED). If the side channel cannot be opened,
 * the RPC socket is closed again, so a failure leaves nothing behind.
 */
export async function openClientListener(path: string, mode: number): Promise<ClientListener> {
  const sidePath = sideChannelPath(path);
  if (Buffer.byteLength(sidePath) > MAX_SOCKET_PATH_BYTES) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `socket path "${path}" is too long: its side channel "${sidePath}" exceeds ${MAX_SOCKET_PATH_BYTES} bytes`,
    );
  }
  let handler: ((transport: SocketTransport) => void) | undefined;
  const early: SocketTransport[] = [];
  const rpc: UnixListener = await listenUnix(
    path,
    (transport) => (handler === undefined ? early.push(transport) : handler(transport)),
    { mode },
  );
  let side: SideChannelAcceptor;
  try {
    side = SideChannelAcceptor.listen(sidePath, { mode });
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
    close,
    [Symbol.asyncDispose]: async () => close(),
  };
}
