import { SessionEvents } from "@rialto/protocol";
import type { Client } from "./client-state.ts";

/** Something a health-check ping must reach (SPEC 3 sequence 5). */
export interface HeartbeatTarget {
  /** How it is named in the answer's `late` list, e.g. `pipeline 3`. */
  readonly name: string;
  /** Resolves once it answered. */
  beat(): Promise<void>;
  /**
   * Whether missing the deadline makes the answer `ok: false`: true for the server's own
   * workers; false for clients, so that no client can have its server killed as hung.
   */
  readonly counts: boolean;
}

/** The answer of a heartbeat round. */
export interface HeartbeatOutcome {
  readonly ok: boolean;
  /** Names of the targets that missed the deadline (at most 16). */
  readonly late: string[];
}

/** Beats every target at once and waits until all answered or `deadlineMs` passed. */
export async function runHeartbeat(
  targets: readonly HeartbeatTarget[],
  deadlineMs: number,
): Promise<HeartbeatOutcome> {
  if (targets.length === 0) return { ok: true, late: [] };
  const missed: HeartbeatTarget[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), deadlineMs);
  });
  await Promise.all(
    targets.map(async (target) => {
      const answered = target.beat().then(
        () => "answered" as const,
        () => "late" as const,
      );
      if ((await Promise.race([answered, deadline])) === "late") missed.push(target);
    }),
  );
  clearTimeout(timer);
  return {
    ok: !missed.some((target) => target.counts),
    late: missed.slice(0, 16).map((target) => target.name),
  };
}

/**
 * Heartbeats to clients: each is a `session/heartbeat` event the client library answers by
 * itself with `session/heartbeatAck`; {@link ClientHeartbeats.beat} resolves on that answer.
 */
export class ClientHeartbeats {
  readonly #waiting = new Map<string, () => void>();
  #nextId = 1;

  /**
   * Sends `client` a heartbeat; resolves when it acknowledged it. An answer later than
   * `deadlineMs` is no longer waited for (the round is over by then).
   */
  beat(client: Client, deadlineMs: number): Promise<void> {
    const id = this.#nextId++;
    const { promise, resolve } = Promise.withResolvers<void>();
    const key = `${client.id}:${id}`;
    this.#waiting.set(key, resolve);
    client.emit(SessionEvents.heartbeat, { id });
    setTimeout(() => this.#waiting.delete(key), deadlineMs).unref();
    return promise;
  }

  /** `session/heartbeatAck` from `client`; unknown or stale ids are ignored. */
  acknowledge(client: Client, id: number): void {
    const key = `${client.id}:${id}`;
    this.#waiting.get(key)?.();
    this.#waiting.delete(key);
  }
}
