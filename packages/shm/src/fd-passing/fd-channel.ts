import { ShmError } from "../errors.ts";
import {
  RECORD_HEADER_BYTE,
  RECORD_HEADER_SIZE,
  RECORD_MAX_DATA,
  RECORD_MAX_FDS,
} from "../layout.ts";
import { libc, type PeerCredentials, SOCK_SEQPACKET } from "../libc.ts";

/** One record taken from an {@link FdChannel}. */
export interface FdRecord {
  /** The payload (a copy; at most 1024 bytes). */
  readonly data: Uint8Array;
  /** Received file descriptors, close-on-exec, owned by the caller (close with {@link closeFd}). */
  readonly fds: number[];
}

// One scratch buffer per direction: records are small and JS runs one call at a time.
const sendBuffer = new Uint8Array(new ArrayBuffer(RECORD_HEADER_SIZE + RECORD_MAX_DATA));
const receiveBuffer = new Uint8Array(new ArrayBuffer(RECORD_HEADER_SIZE + RECORD_MAX_DATA));

/** Closes a file descriptor, e.g. one received in an {@link FdRecord}. */
export function closeFd(fd: number): void {
  libc.close(fd);
}

function closeAll(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      libc.close(fd);
    } catch {}
  }
}

/**
 * A side channel that carries file descriptors: a non-blocking AF_UNIX SOCK_SEQPACKET
 * socket owned through ffi and never wrapped by Bun (Bun's socket reads drop passed fds).
 * Each {@link FdChannel.sendFds} is one record; {@link FdChannel.receive} takes one record
 * or returns `undefined` when none is queued. Call `receive()` when a notification on your
 * normal data socket says a record was sent: the sender sends here first, so it is queued.
 */
export class FdChannel implements Disposable {
  /** The socket fd; owned by this channel. */
  readonly fd: number;
  #closed = false;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** A connected pair (socketpair), both ends close-on-exec and non-blocking. */
  static pair(): [FdChannel, FdChannel] {
    const [a, b] = libc.socketPair(SOCK_SEQPACKET);
    return [new FdChannel(a), new FdChannel(b)];
  }

  /**
   * Adopts an inherited or accepted SOCK_SEQPACKET socket (e.g. fd 3 of a child process).
   * Takes ownership of `fd`; refuses other socket types with `INVALID_ARGUMENT`.
   */
  static fromFd(fd: number): FdChannel {
    const type = libc.socketType(fd);
    if (type !== SOCK_SEQPACKET) {
      throw new ShmError("INVALID_ARGUMENT", `fd ${fd} is socket type ${type}, not SOCK_SEQPACKET`);
    }
    return new FdChannel(fd);
  }

  /** Connects to an `FdListener` listening at `path`. */
  static connect(path: string): FdChannel {
    const fd = libc.socket(SOCK_SEQPACKET);
    try {
      libc.connect(fd, path);
    } catch (error) {
      closeAll([fd]);
      throw error;
    }
    return new FdChannel(fd);
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one record: `fds` (at most 16) as SCM_RIGHTS and `data` (at most 1024 bytes).
   * The fds stay open here; the peer gets its own copies. Never blocks: a full socket
   * buffer fails with ERRNO `EAGAIN`, a vanished peer with ERRNO `EPIPE`.
   */
  sendFds(fds: readonly number[], data: Uint8Array = new Uint8Array(0)): void {
    this.#assertOpen();
    if (fds.length > RECORD_MAX_FDS) {
      throw new ShmError(
        "INVALID_ARGUMENT",
        `${fds.length} fds in one record; at most ${RECORD_MAX_FDS}`,
      );
    }
    for (const fd of fds) {
      if (!Number.isInteger(fd) || fd < 0) {
        throw new ShmError("INVALID_ARGUMENT", `fd ${fd} is not a file descriptor`);
      }
    }
    if (data.byteLength > RECORD_MAX_DATA) {
      throw new ShmError(
        "INVALID_ARGUMENT",
        `record payload is ${data.byteLength} bytes; at most ${RECORD_MAX_DATA}`,
      );
    }
    sendBuffer[0] = RECORD_HEADER_BYTE;
    sendBuffer.set(data, RECORD_HEADER_SIZE);
    libc.sendmsg(this.fd, sendBuffer.subarray(0, RECORD_HEADER_SIZE + data.byteLength), fds);
  }

  /**
   * Takes the next record, or `undefined` when none is queued. The caller owns the
   * received fds. A closed peer gives `PEER_CLOSED`; a record that is too large or not
   * written by `sendFds` gives `BAD_RECORD` (its fds are closed).
   */
  receive(): FdRecord | undefined {
    this.#assertOpen();
    const message = libc.recvmsg(this.fd, receiveBuffer, RECORD_MAX_FDS);
    if (message === undefined) return undefined;
    if (message.length === 0 && message.fds.length === 0) {
      throw new ShmError("PEER_CLOSED", `fd channel ${this.fd}: the peer closed the channel`);
    }
    if (
      message.truncated ||
      message.length < RECORD_HEADER_SIZE ||
      receiveBuffer[0] !== RECORD_HEADER_BYTE
    ) {
      closeAll(message.fds);
      throw new ShmError(
        "BAD_RECORD",
        `fd channel ${this.fd}: malformed record (${message.length} bytes, ${message.fds.length} fds${message.truncated ? ", truncated" : ""})`,
      );
    }
    return { data: receiveBuffer.slice(RECORD_HEADER_SIZE, message.length), fds: message.fds };
  }

  /** Credentials of the peer process (SO_PEERCRED), e.g. to match it with the data socket. */
  peerCredentials(): PeerCredentials {
    this.#assertOpen();
    return libc.peerCredentials(this.fd);
  }

  /** Closes the socket. Idempotent. Records still queued (and their fds) are discarded. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc.close(this.fd);
  }

  /** Same as {@link FdChannel.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ShmError("CLOSED", `fd channel ${this.fd} is closed`);
  }
}
