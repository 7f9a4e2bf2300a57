import {
  decodeFdTag,
  encodeFdTag,
  RialtoError,
  sideChannelPath,
  toRialtoError,
} from "@rialto/protocol";
import { closeFd, connectSideChannel, type FdChannel, ShmError } from "@rialto/shm";

/** Records that may be skipped while looking for a tagged one (stale ones from timed-out calls). */
const MAX_STALE_RECORDS = 16;

/** Pause between connects while the side channel's backlog is full, ms. */
const BUSY_RETRY_MS = 10;

/**
 * The client's end of the fd side channel next to the session server's socket
 * (`<socketPath>.fd`): SCM_RIGHTS records, because Bun's own socket reads drop passed fds.
 * A new one is opened for every fresh registration; its token goes into `session/register`.
 */
export class ClientSideChannel implements Disposable {
  readonly #channel: FdChannel;
  /** The token (lowercase hex) that binds this channel to the registration. */
  readonly token: string;

  private constructor(channel: FdChannel, token: Uint8Array) {
    this.#channel = channel;
    this.token = token.toHex();
  }

  /**
   * Connects to the side channel of the session server listening at `socketPath`. A full backlog
   * (EAGAIN: other connections wait to be accepted; the server drains it every 50 ms) is retried
   * every 10 ms for up to `busyTimeoutMs`; anything else fails at once with CONNECTION_LOST.
   */
  static async open(socketPath: string, busyTimeoutMs = 1000): Promise<ClientSideChannel> {
    const path = sideChannelPath(socketPath);
    const deadline = performance.now() + busyTimeoutMs;
    for (;;) {
      try {
        const { channel, token } = connectSideChannel(path);
        return new ClientSideChannel(channel, token);
      } catch (error) {
        if (isBacklogFull(error) && performance.now() < deadline) {
          await Bun.sleep(BUSY_RETRY_MS);
          continue;
        }
        throw new RialtoError(
          "CONNECTION_LOST",
          `cannot open the fd side channel ${path}: ${toRialtoError(error).message}`,
          { cause: error },
        );
      }
    }
  }

  /** Sends `fd` tagged `tag` (before the call that names the tag). */
  sendFd(fd: number, tag: number): void {
    this.#channel.sendFds([fd], encodeFdTag(tag));
  }

  /**
   * Takes the fd the server sent tagged `tag` (it sends the record before its reply, so it is
   * queued). Older records left by calls that timed out are closed and skipped.
   */
  receiveFd(tag: number, method: string): number {
    for (let skipped = 0; skipped <= MAX_STALE_RECORDS; skipped++) {
      const record = this.#channel.receive();
      if (record === undefined) break;
      const match = record.data.byteLength === 4 && decodeFdTag(record.data) === tag;
      if (match && record.fds.length === 1) return record.fds[0] as number;
      for (const fd of record.fds) closeFd(fd);
    }
    throw new RialtoError(
      "PROTOCOL_ERROR",
      `"${method}": no fd tagged ${tag} arrived on the side channel`,
    );
  }

  /** Closes the channel. Idempotent. */
  close(): void {
    this.#channel.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function isBacklogFull(error: unknown): boolean {
  return error instanceof ShmError && (error.errno === "EAGAIN" || error.errno === "EWOULDBLOCK");
}
