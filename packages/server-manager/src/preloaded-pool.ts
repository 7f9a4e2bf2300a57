import type { RialtoError, SessionServerState } from "@rialto/protocol";
import type { Logger } from "pino";
import type {
  ExitInfo,
  SessionServerHandle,
  SessionServerListener,
} from "./session-server-handle.ts";

/** Consecutive preloaded servers that may fail before the pool stops replacing them. */
export const MAX_CONSECUTIVE_PRELOAD_FAILURES = 3;

interface PoolEntry {
  ready: boolean;
  discarded: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Options of {@link PreloadedPool}. */
export interface PreloadedPoolOptions {
  /** Servers to keep waiting. */
  size: number;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  /** Spawns one session server owned by `listener` (throws SPAWN_FAILED). */
  spawn(listener: SessionServerListener): SessionServerHandle;
  logger: Logger;
}

/** How long after an app took a preloaded server its replacement is spawned, ms. */
const REFILL_DELAY_MS = 50;

/**
 * The pool of preloaded session servers (SPEC 3, Rialto's `numOfPreloadedServers`): started
 * ahead, waiting in Uninitialised until an app takes one; each taken server is replaced soon
 * after (once it had {@link REFILL_DELAY_MS} to configure for its app alone).
 * A pooled server that fails (no first message in time, Error, exit, hang) is killed and
 * replaced; after {@link MAX_CONSECUTIVE_PRELOAD_FAILURES} failures in a row the pool stops
 * refilling (a broken session server command would otherwise spawn forever).
 */
export class PreloadedPool implements SessionServerListener {
  readonly #options: PreloadedPoolOptions;
  readonly #entries = new Map<SessionServerHandle, PoolEntry>();
  #failures = 0;
  #closed = false;
  /** The pending refill after a take. */
  #refill: ReturnType<typeof setTimeout> | undefined;

  constructor(options: PreloadedPoolOptions) {
    this.#options = options;
  }

  /** Servers that sent their first message and wait for an app. */
  get readyServers(): SessionServerHandle[] {
    return [...this.#entries]
      .filter(([, entry]) => entry.ready && !entry.discarded)
      .map(([s]) => s);
  }

  /** Every pooled process that is not being discarded, ready or not. */
  get servers(): SessionServerHandle[] {
    return [...this.#entries].filter(([, entry]) => !entry.discarded).map(([server]) => server);
  }

  /** Spawns servers until the pool holds `size` live ones. */
  fill(): void {
    while (!this.#closed && this.#liveCount() < this.#options.size) {
      if (this.#failures >= MAX_CONSECUTIVE_PRELOAD_FAILURES) {
        this.#options.logger.error(
          { failures: this.#failures },
          "preloaded session servers keep failing; not starting more",
        );
        return;
      }
      let server: SessionServerHandle;
      try {
        server = this.#options.spawn(this);
      } catch (error) {
        this.#failures++;
        this.#options.logger.error({ err: error }, "cannot spawn a preloaded session server");
        continue;
      }
      const entry: PoolEntry = { ready: false, discarded: false, timer: undefined };
      entry.timer = setTimeout(() => {
        this.#discard(server, `no first message within ${this.#options.readyTimeoutMs} ms`);
      }, this.#options.readyTimeoutMs);
      this.#entries.set(server, entry);
    }
  }

  /** Hands a ready server to `listener` and spawns its replacement; none when none is ready. */
  take(listener: SessionServerListener): SessionServerHandle | undefined {
    const server = this.readyServers[0];
    if (server === undefined) return undefined;
    this.#entries.delete(server);
    server.bind(listener);
    this.#refillSoon();
    return server;
  }

  /**
   * Spawns the replacements {@link REFILL_DELAY_MS} after a take: the taken server is
   * configuring for its app then, and a process started beside it would take CPU from it.
   */
  #refillSoon(): void {
    if (this.#refill !== undefined || this.#closed) return;
    this.#refill = setTimeout(() => {
      this.#refill = undefined;
      this.fill();
    }, REFILL_DELAY_MS);
  }

  /** Kills a pooled server that stopped answering pings. */
  hung(server: SessionServerHandle): void {
    this.#discard(server, "pings unanswered");
  }

  /** Terminates every pooled server and waits until all are gone. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#refill);
    const servers = [...this.#entries.keys()];
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    await Promise.all(servers.map((server) => server.terminate(this.#options.stopTimeoutMs)));
  }

  stateChanged(server: SessionServerHandle, state: SessionServerState): void {
    const entry = this.#entries.get(server);
    if (entry === undefined || entry.discarded) return;
    if (state === "Uninitialised" && !entry.ready) {
      clearTimeout(entry.timer);
      entry.ready = true;
      this.#failures = 0;
      return;
    }
    this.#discard(server, `reported ${state} while waiting`);
  }

  channelLost(server: SessionServerHandle, cause?: RialtoError): void {
    this.#discard(server, `control channel lost: ${cause?.message ?? "closed"}`);
  }

  exited(server: SessionServerHandle, exit: ExitInfo): void {
    const entry = this.#entries.get(server);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.#entries.delete(server);
    if (this.#closed) return;
    if (!entry.discarded) {
      this.#failures++;
      this.#options.logger.warn({ pid: server.pid, exit }, "preloaded session server exited");
    }
    this.fill();
  }

  #discard(server: SessionServerHandle, why: string): void {
    const entry = this.#entries.get(server);
    if (entry === undefined || entry.discarded) return;
    clearTimeout(entry.timer);
    entry.discarded = true;
    this.#failures++;
    this.#options.logger.warn({ pid: server.pid, why }, "preloaded session server discarded");
    server.kill();
    this.fill();
  }

  #liveCount(): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (!entry.discarded) count++;
    return count;
  }
}
