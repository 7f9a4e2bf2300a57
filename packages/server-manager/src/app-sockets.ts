import { RialtoError, sideChannelPath, toRialtoError } from "@rialto/protocol";
import { OwnedSocket } from "@rialto/shm";

/**
 * An app's listening sockets, owned by the manager (SPEC 3 sequence 5, Rialto's NamedSocket):
 * the client RPC socket at the app's socket path (a stream socket, locked with `<path>.lock`) and
 * its fd side channel (`<path>.fd`, SOCK_SEQPACKET). Created once when the app is initiated,
 * passed to every session server the app gets, kept across restarts (connections queue in the
 * backlog while no session server accepts, so a client's connect is never refused), closed and
 * removed when the app is forgotten.
 */
export class AppSockets implements Disposable {
  readonly #rpc: OwnedSocket;
  readonly #side: OwnedSocket;

  private constructor(rpc: OwnedSocket, side: OwnedSocket) {
    this.#rpc = rpc;
    this.#side = side;
  }

  /**
   * Locks, binds (with file mode `mode`) and listens on `socketPath` and its side channel. A stale
   * socket file is replaced; a path another process serves or holds the lock of is refused.
   * Throws PERMISSION_DENIED naming `method` and the path; a failure leaves nothing behind.
   */
  static open(socketPath: string, mode: number, method: string): AppSockets {
    const rpc = bindOrThrow(socketPath, method, () =>
      OwnedSocket.bind(socketPath, { type: "stream", mode, lock: true }),
    );
    const sidePath = sideChannelPath(socketPath);
    try {
      const side = bindOrThrow(sidePath, method, () =>
        OwnedSocket.bind(sidePath, { type: "seqpacket", mode }),
      );
      return new AppSockets(rpc, side);
    } catch (error) {
      rpc.close();
      throw error;
    }
  }

  /** The two listening sockets (client RPC, side channel). */
  get sockets(): readonly [rpc: OwnedSocket, sideChannel: OwnedSocket] {
    return [this.#rpc, this.#side];
  }

  /** The fds to pass to a session server, in the order SetConfiguration's `socketsPassed` names. */
  get fds(): readonly [rpc: number, sideChannel: number] {
    return [this.#rpc.fd, this.#side.fd];
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#rpc.closed;
  }

  /** Closes both sockets and removes their files and the lock. Idempotent. */
  close(): void {
    this.#side.close();
    this.#rpc.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function bindOrThrow(path: string, method: string, bind: () => OwnedSocket): OwnedSocket {
  try {
    return bind();
  } catch (error) {
    const cause = toRialtoError(error);
    throw new RialtoError(
      "PERMISSION_DENIED",
      `${method}: cannot listen on ${path}: ${cause.message}`,
      {
        cause: error,
      },
    );
  }
}
