import type { Counter } from "prom-client";

/**
 * Feeds a prom-client {@link Counter} from totals that another process keeps and that restart
 * from 0 (a session server's counters, a process's CPU time): each new total adds what it grew
 * by since the last one of the same key, and a total smaller than the last (a restart) adds
 * itself. The exported counter therefore only ever rises, as Prometheus expects.
 */
export class RisingCounter<L extends string> {
  readonly #counter: Counter<L>;
  readonly #last = new Map<string, number>();

  constructor(counter: Counter<L>) {
    this.#counter = counter;
  }

  /**
   * Records that the total of the series `labels` is now `total`. `epoch` names the producer
   * of the total (e.g. the session server's pid): a new epoch starts from 0.
   */
  update(
    labels: Partial<Record<L, string | number>>,
    total: number,
    epoch: string | number = "",
  ): void {
    const key = `${seriesKey(labels)}|${epoch}`;
    const last = this.#last.get(key);
    if (last === undefined) this.#forget(labels);
    this.#last.set(key, total);
    const grown = last === undefined || total < last ? total : total - last;
    // Also for 0: a series exists from its first total on (a dropped-frames count of 0 is news).
    this.#counter.inc(labels, grown);
  }

  /** Stops following a series and removes it from the export (e.g. a destroyed pipeline). */
  remove(labels: Partial<Record<L, string | number>>): void {
    this.#forget(labels);
    this.#counter.remove(labels);
  }

  #forget(labels: Partial<Record<L, string | number>>): void {
    const prefix = `${seriesKey(labels)}|`;
    for (const key of this.#last.keys()) if (key.startsWith(prefix)) this.#last.delete(key);
  }
}

function seriesKey(labels: Record<string, string | number | undefined>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}
