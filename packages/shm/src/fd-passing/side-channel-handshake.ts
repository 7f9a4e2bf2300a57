import { ShmError } from "../errors.ts";
import { HANDSHAKE_TOKEN_SIZE } from "../layout.ts";
import { closeFd, FdChannel, type FdRecord } from "./fd-channel.ts";
import { FdListener, type FdListenerOptions } from "./fd-listener.ts";

/** A client's side channel and the token that identifies it on the data socket. */
export interface SideChannelConnection {
  /** The connected side channel; its first record (the token) is already sent. */
  readonly channel: FdChannel;
  /** 16 random bytes; present them on the data socket so the server can claim the channel. */
  readonly token: Uint8Array;
}

/**
 * Client half of the side-channel handshake: connects to the acceptor at `path` and sends
 * a fresh 16-byte token as the channel's first record. Then present the token on the data
 * socket; the server claims the channel with {@link SideChannelAcceptor.claim}.
 */
export function connectSideChannel(path: string): SideChannelConnection {
  const channel = FdChannel.connect(path);
  const token = crypto.getRandomValues(new Uint8Array(HANDSHAKE_TOKEN_SIZE));
  try {
    channel.sendFds([], token);
  } catch (error) {
    channel.close();
    throw error;
  }
  return { channel, token };
}

/** Options of {@link SideChannelAcceptor.listen}. */
export interface SideChannelAcceptorOptions extends FdListenerOptions {
  /** How long an unclaimed connection is kept, in milliseconds; default 10000. */
  readonly pendingTimeoutMs?: number;
  /** Most unclaimed connections kept; the oldest are closed beyond it; default 64. */
  readonly maxPending?: number;
  /** Monotonic clock in milliseconds; default `performance.now`. */
  readonly now?: () => number;
}

interface Pending {
  readonly channel: FdChannel;
  readonly since: number;
  /** Hex of the token record, once it has been read. */
  key?: string;
}

/**
 * Server half of the side-channel handshake, for peers that are unrelated processes: an
 * {@link FdListener} next to the data socket, plus the accepted channels keyed by their
 * token record. When a client presents a token on the data socket, call
 * {@link SideChannelAcceptor.claim}: the client sent the record first, so it is queued.
 * Connections nobody claims are closed after `pendingTimeoutMs` or beyond `maxPending`.
 */
export class SideChannelAcceptor implements Disposable {
  readonly #listener: FdListener;
  /** Unclaimed connections, oldest first. */
  #pending: Pending[] = [];
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #now: () => number;

  private constructor(listener: FdListener, options: SideChannelAcceptorOptions) {
    this.#listener = listener;
    this.#timeoutMs = options.pendingTimeoutMs ?? 10_000;
    this.#maxPending = options.maxPending ?? 64;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Listens at `path` (see {@link FdListener.listen} for the mode and stale-path rules). */
  static listen(path: string, options: SideChannelAcceptorOptions = {}): SideChannelAcceptor {
    return new SideChannelAcceptor(FdListener.listen(path, options), options);
  }

  /** The socket path clients connect to. */
  get path(): string {
    return this.#listener.path;
  }

  /** Connections accepted but not yet claimed. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /**
   * Returns the channel whose first record equals `token` and hands its ownership to the
   * caller, or `undefined` when no such connection arrived (wrong token, or the client
   * skipped the side channel).
   */
  claim(token: Uint8Array): FdChannel | undefined {
    if (token.byteLength !== HANDSHAKE_TOKEN_SIZE) {
      throw new ShmError(
        "INVALID_ARGUMENT",
        `handshake token is ${token.byteLength} bytes; expected ${HANDSHAKE_TOKEN_SIZE}`,
      );
    }
    const now = this.#now();
    for (const channel of this.#listener.acceptPending()) {
      this.#pending.push({ channel, since: now });
    }
    this.#pending = this.#pending.filter(
      (pending) => this.#identify(pending) && this.#fresh(pending, now),
    );
    const key = token.toHex();
    const index = this.#pending.findIndex((pending) => pending.key === key);
    const found = index < 0 ? undefined : this.#pending.splice(index, 1)[0];
    for (const excess of this.#pending.splice(0, this.#pending.length - this.#maxPending)) {
      excess.channel.close();
    }
    return found?.channel;
  }

  /** Closes the listener and every unclaimed connection. Idempotent. */
  close(): void {
    for (const { channel } of this.#pending) channel.close();
    this.#pending = [];
    this.#listener.close();
  }

  /** Same as {@link SideChannelAcceptor.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Reads the token record if it is queued; returns false (and closes) on a bad peer. */
  #identify(pending: Pending): boolean {
    if (pending.key !== undefined) return true;
    let record: FdRecord | undefined;
    try {
      record = pending.channel.receive();
    } catch {
      pending.channel.close();
      return false;
    }
    if (record === undefined) return true;
    const key = record.data.toHex();
    const duplicate = this.#pending.some((other) => other.key === key);
    if (record.fds.length > 0 || record.data.byteLength !== HANDSHAKE_TOKEN_SIZE || duplicate) {
      for (const fd of record.fds) closeFd(fd);
      pending.channel.close();
      return false;
    }
    pending.key = key;
    return true;
  }

  /** Keeps a connection younger than the timeout; closes an older one. */
  #fresh(pending: Pending, now: number): boolean {
    if (now - pending.since < this.#timeoutMs) return true;
    pending.channel.close();
    return false;
  }
}
