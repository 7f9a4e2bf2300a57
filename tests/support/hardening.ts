import { readdirSync, readFileSync } from "node:fs";
import type { RialtoClient } from "@rialto/client";
import type { Socket } from "bun";

/** The bound every attack test holds a well-behaved client's ping p99 to, ms (issue 12). */
export const PING_P99_LIMIT_MS = 20;

/** Latency figures of a {@link PingProbe} run, ms. */
export interface PingFigures {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * A well-behaved client pinging its session server in a loop (one ping at a time, 2 ms apart)
 * while an attack runs beside it; {@link PingProbe.stop} gives the latencies seen.
 */
export class PingProbe {
  readonly #latencies: number[] = [];
  readonly #done: Promise<void>;
  #running = true;
  #failure: unknown;

  constructor(client: RialtoClient) {
    this.#done = this.#run(client);
  }

  /** Pings answered so far. */
  get count(): number {
    return this.#latencies.length;
  }

  /** Stops pinging; rejects if a ping failed. */
  async stop(): Promise<PingFigures> {
    this.#running = false;
    await this.#done;
    if (this.#failure !== undefined) throw this.#failure;
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return {
      count: sorted.length,
      p50: round(at(0.5)),
      p99: round(at(0.99)),
      max: round(sorted.at(-1) ?? 0),
    };
  }

  async #run(client: RialtoClient): Promise<void> {
    let n = 0;
    while (this.#running) {
      const started = performance.now();
      try {
        await client.ping(++n);
      } catch (error) {
        this.#failure = error;
        return;
      }
      this.#latencies.push(performance.now() - started);
      await Bun.sleep(2);
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Resident set size of `pid` in MiB (VmRSS of /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** Samples a process's RSS every 20 ms; `stop()` gives the highest value seen, MiB. */
export function sampleRss(pid: number): { stop(): number } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // The process went away; the test will say so.
    }
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMiB(pid));
    },
  };
}

/** Open fds of `pid`. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A raw connection an attack test drives byte by byte. */
export interface RawConnection {
  readonly socket: Socket<undefined>;
  /** True once the server closed it (or it failed). */
  readonly closed: boolean;
  /** Bytes the server sent. */
  readonly received: number;
  /** Resolves when the server closes it. */
  readonly whenClosed: Promise<void>;
}

/**
 * Opens a raw Unix-socket connection to `path` that never reads what it is sent when `reading`
 * is false (its socket is paused: the server's replies pile up in the kernel and then in the
 * server, as with a client that never reads).
 */
export async function openRaw(path: string, reading = true): Promise<RawConnection> {
  const closed = Promise.withResolvers<void>();
  const state = { closed: false, received: 0 };
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data(_socket, chunk) {
        state.received += chunk.byteLength;
      },
      close() {
        state.closed = true;
        closed.resolve();
      },
      error() {
        state.closed = true;
        closed.resolve();
      },
    },
  });
  if (!reading) socket.pause();
  return {
    socket,
    get closed() {
      return state.closed;
    },
    get received() {
      return state.received;
    },
    whenClosed: closed.promise,
  };
}

/** Prints one figure line of an attack test (kept in the CI log for the README's numbers). */
export function report(attack: string, figures: Record<string, unknown>): void {
  console.log(`[hardening] ${attack}: ${JSON.stringify(figures)}`);
}
