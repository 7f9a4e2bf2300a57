import { describe, expect, it } from "bun:test";
import type { StatsEvent } from "@rialto/protocol";
import { StatsReporter } from "./stats-reporter.ts";

function report(clients: number): StatsEvent {
  return {
    clients,
    rpcCalls: 0,
    rpcRetransmits: 0,
    rpcReconnects: 0,
    rpcMeanMs: 0,
    avMemoryBytes: 0,
    pipelines: [],
  } as unknown as StatsEvent;
}

describe("StatsReporter", () => {
  it("runs no timer while the server is idle, and checks when poked", () => {
    let current = report(0);
    const sent: StatsEvent[] = [];
    const reporter = new StatsReporter({
      collect: () => current,
      send: (r) => sent.push(r),
      busy: (r) => r.clients > 0,
    });
    reporter.start();
    // The first report goes out at once; nothing is busy, so nothing ticks.
    expect(sent).toHaveLength(1);
    expect(reporter.ticking).toBe(false);
    reporter.poke();
    expect(sent).toHaveLength(1);
    // A client arrives: the poke reports it and starts the periodic check.
    current = report(1);
    reporter.poke();
    expect(sent.map((r) => r.clients)).toEqual([0, 1]);
    expect(reporter.ticking).toBe(true);
    reporter.stop();
    expect(reporter.ticking).toBe(false);
  });

  it("stops its periodic check once the server is idle again", async () => {
    let current = report(1);
    const sent: number[] = [];
    const reporter = new StatsReporter({
      collect: () => current,
      send: (r) => sent.push(r.clients),
      busy: (r) => r.clients > 0,
      intervalMs: 5,
    });
    reporter.start();
    expect(reporter.ticking).toBe(true);
    current = report(0);
    const deadline = performance.now() + 5000;
    while (reporter.ticking && performance.now() < deadline) await Bun.sleep(5);
    expect(reporter.ticking).toBe(false);
    expect(sent).toEqual([1, 0]);
  });

  it("sends nothing before it is started", () => {
    const sent: StatsEvent[] = [];
    const reporter = new StatsReporter({ collect: () => report(0), send: (r) => sent.push(r) });
    reporter.poke();
    expect(sent).toEqual([]);
  });
});
