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
  /**
   * Most unclaimed connections kept per peer uid (SO_PEERCRED); beyond it that uid's oldest
   * connection that has not sent its token goes first, then its oldest; default 16.
   */
  readonly maxPendingPerUid?: number;
  /** Monotonic clock in milliseconds; default `performance.now`. */
  readonly now?: () => number;
}

interface Pending {
  readonly channel: FdChannel;
  readonly since: number;
  /** The peer's uid, or -1 when the kernel could not tell. */
  readonly uid: number;
  /** Hex of the token record, once it has been read. */
  key?: string;
}

/**
 * Server half of the side-channel handshake, for peers that are unrelated processes: an
 * {@link FdListener} next to the data socket, plus the accepted channels keyed by their
 * token record. When a client presents a token on the data socket, call
 * {@link SideChannelAcceptor.claim}: the client sent the record first, so it is queued.
 * Connections nobody claims are closed after `pendingTimeoutMs` or beyond `maxPending` (and
 * `maxPendingPerUid` per peer uid).
 *
 * The listener is not watched by the event loop: call {@link SideChannelAcceptor.sweep} while a
 * client may be connecting (the session server does every 50 ms from each RPC connection until
 * nothing is pending). Accepting only inside `claim` would let anyone who fills the kernel's
 * backlog lock every later client out, because claims need a connection.
 */
export class SideChannelAcceptor implements Disposable {
  readonly #listener: FdListener;
  /** Unclaimed connections, oldest first. */
  #pending: Pending[] = [];
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #maxPendingPerUid: number;
  readonly #now: () => number;
  #dropped = 0;

  private constructor(listener: FdListener, options: SideChannelAcceptorOptions) {
    this.#listener = listener;
    this.#timeoutMs = options.pendingTimeoutMs ?? 10_000;
    this.#maxPending = options.maxPending ?? 64;
    this.#maxPendingPerUid = options.maxPendingPerUid ?? 16;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Listens at `path` (see {@link FdListener.listen} for the mode and stale-path rules). */
  static listen(path: string, options: SideChannelAcceptorOptions = {}): SideChannelAcceptor {
    return new SideChannelAcceptor(FdListener.listen(path, options), options);
  }

  /**
   * Serves a listening socket bound by another process ({@link FdListener.adopt}): takes
   * ownership of `fd`; closing leaves the socket file at `path` to its owner.
   */
  static adopt(
    fd: number,
    path: string,
    options: SideChannelAcceptorOptions = {},
  ): SideChannelAcceptor {
    return new SideChannelAcceptor(FdListener.adopt(fd, path), options);
  }

  /** The socket path clients connect to. */
  get path(): string {
    return this.#listener.path;
  }

  /** Connections accepted but not yet claimed. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Unclaimed connections closed so far (timed out, over a cap, malformed, or hung up). */
  get droppedCount(): number {
    return this.#dropped;
  }

  /**
   * Accepts every connection waiting in the kernel's backlog, reads the tokens that arrived,
   * and closes connections that hung up, sent a bad first record, timed out, or exceed the
   * per-uid or total cap. Cheap when nothing waits (one `accept4` that says EAGAIN).
   */
  sweep(): void {
    const now = this.#now();
    for (const channel of this.#listener.acceptPending()) {
      this.#pending.push({ channel, since: now, uid: peerUid(channel) });
    }
    this.#pending = this.#pending.filter(
      (pending) => this.#identify(pending) && this.#fresh(pending, now),
    );
    this.#enforceCaps();
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
    this.sweep();
    const key = token.toHex();
    const index = this.#pending.findIndex((pending) => pending.key === key);
    return index < 0 ? undefined : this.#pending.splice(index, 1)[0]?.channel;
  }

  /** Closes what exceeds `maxPendingPerUid` per uid, then `maxPending` overall. */
  #enforceCaps(): void {
    const perUid = new Map<number, Pending[]>();
    for (const pending of this.#pending) {
      const list = perUid.get(pending.uid);
      if (list === undefined) perUid.set(pending.uid, [pending]);
      else list.push(pending);
    }
    const evicted = new Set<Pending>();
    for (const list of perUid.values()) {
      const excess = list.length - this.#maxPendingPerUid;
      if (excess <= 0) continue;
      for (const pending of evictionOrder(list).slice(0, excess)) evicted.add(pending);
    }
    const kept = this.#pending.filter((pending) => !evicted.has(pending));
    const excess = kept.length - this.#maxPending;
    if (excess > 0)
      for (const pending of evictionOrder(kept).slice(0, excess)) evicted.add(pending);
    if (evicted.size === 0) return;
    for (const pending of evicted) this.#drop(pending);
    this.#pending = this.#pending.filter((pending) => !evicted.has(pending));
  }

  #drop(pending: Pending): void {
    this.#dropped++;
    pending.channel.close();
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
      this.#drop(pending);
      return false;
    }
    if (record === undefined) return true;
    const key = record.data.toHex();
    const duplicate = this.#pending.some((other) => other.key === key);
    if (record.fds.length > 0 || record.data.byteLength !== HANDSHAKE_TOKEN_SIZE || duplicate) {
      for (const fd of record.fds) closeFd(fd);
      this.#drop(pending);
      return false;
    }
    pending.key = key;
    return true;
  }

  /** Keeps a connection younger than the timeout; closes an older one. */
  #fresh(pending: Pending, now: number): boolean {
    if (now - pending.since < this.#timeoutMs) return true;
    this.#drop(pending);
    return false;
  }
}

/** The peer's uid (SO_PEERCRED), -1 when it cannot be read. */
function peerUid(channel: FdChannel): number {
  try {
    return channel.peerCredentials().uid;
  } catch {
    return -1;
  }
}

/**
 * The order in which connections are closed when over a cap: those that have not sent their
 * token (a client sends it right after connecting, so these are stalled or hostile) oldest
 * first, then the identified ones oldest first.
 */
function evictionOrder(list: readonly Pending[]): Pending[] {
  return [
    ...list.filter((pending) => pending.key === undefined),
    ...list.filter((pending) => pending.key !== undefined),
  ];
}
