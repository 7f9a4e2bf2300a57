import type { Logger } from "pino";
import type { SessionServerHandle } from "./session-server-handle.ts";

/** A session server the health check pings, and what to do when it is found hung. */
export interface PingTarget {
  server: SessionServerHandle;
  hung(server: SessionServerHandle): void;
}

/** Options of {@link HealthCheck}. */
export interface HealthCheckOptions {
  /** Ping period in ms (0: off). */
  intervalMs: number;
  /** Unanswered pings in a row that count as a hang. */
  failedPingsBeforeRecovery: number;
  /** The servers to ping at each tick. */
  targets(): Iterable<PingTarget>;
  logger: Logger;
  /** Called with each answered ping's round trip, ms (metrics). */
  onAnswer?(server: SessionServerHandle, roundTripMs: number): void;
}

/**
 * The health check (SPEC 3 item 5, Rialto's HealthcheckService): every `intervalMs` each target
 * whose previous ping is still unanswered gets a failure; `failedPingsBeforeRecovery` failures in
 * a row count as a hang. Then a new ping goes out. Any answer, even a late one for an older ping,
 * proves the server alive and clears its failures, unless it says `ok: false`: one of the
 * server's workers (a pipeline's render loop) missed the ping's deadline (half the interval),
 * so a wedged pipeline is found hung though the process still answers.
 */
export class HealthCheck {
  readonly #options: HealthCheckOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #nextPingId = 1;

  constructor(options: HealthCheckOptions) {
    this.#options = options;
  }

  /** Starts the periodic pings (no-op when the interval is 0). */
  start(): void {
    if (this.#options.intervalMs === 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(), this.#options.intervalMs);
    // The children keep the process alive; an idle manager should not.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One round: count unanswered pings, report hangs, send new pings. */
  tick(): void {
    const { failedPingsBeforeRecovery, intervalMs, logger } = this.#options;
    for (const { server, hung } of this.#options.targets()) {
      if (!server.isConnected) continue;
      const health = server.health;
      if (health.outstanding) {
        health.failed++;
        logger.warn({ pid: server.pid, failed: health.failed }, "session server missed a ping");
        if (health.failed >= failedPingsBeforeRecovery) {
          hung(server);
          continue;
        }
      }
      health.outstanding = true;
      const id = this.#nextPingId++;
      const sentAt = performance.now();
      // Long enough that a late answer still arrives and proves the server alive.
      server.ping(id, intervalMs * failedPingsBeforeRecovery, workerDeadlineMs(intervalMs)).then(
        (ack) => {
          if (ack.ok === false) {
            // Left outstanding: the next tick counts it as missed.
            logger.warn(
              { pid: server.pid, late: ack.late },
              "a session server worker missed a ping",
            );
            return;
          }
          health.outstanding = false;
          health.failed = 0;
          this.#options.onAnswer?.(server, performance.now() - sentAt);
        },
        () => {
          // Counted at the next tick, when the ping is still outstanding.
        },
      );
    }
  }
}

/** The deadline a ping gives the server's workers: half the interval, 1 s at most, ms. */
export function workerDeadlineMs(intervalMs: number): number {
  return Math.max(1, Math.min(1000, Math.floor(intervalMs / 2)));
}
