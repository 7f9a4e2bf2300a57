import { describe, expect, it } from "bun:test";
import type { MediaPipeline, RialtoClient } from "@rialto/client";
import { TestMethods } from "@rialto/protocol/testing";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

// Deadlines are generous: 15 clients reconnecting hundreds of times share 2 cores with other runs.
const STRESS_TIMEOUT_MS = 30_000;

/** Waits until `client` is connected again after a drop. */
function connected(client: RialtoClient): Promise<void> {
  return eventually(() => client.getStats().state === "connected", "the reconnect");
}

describe("retry-RPC under connection faults (real session server)", () => {
  it("settles each of 15 × 250 concurrent calls once with its own answer while every 10th call drops the connection", async () => {
    await using app = await TestApp.start();
    const clients = await Promise.all(
      Array.from({ length: 15 }, () => app.connect({ timeoutMs: STRESS_TIMEOUT_MS })),
    );
    // Per client: 250 calls issued without waiting for answers, in waves of 10, each wave
    // followed by a drop of the connection (every 10th call) while its calls are in flight.
    const answers = await Promise.all(
      clients.map(async (client, c) => {
        const calls: Promise<[number, number]>[] = [];
        for (let n = 0; n < 250; n++) {
          const value = c * 1000 + n;
          calls.push(client.ping(value).then((answer) => [value, answer]));
          if (n % 10 === 9) {
            client.dropConnection();
            await connected(client);
          }
        }
        return Promise.all(calls);
      }),
    );
    const flat = answers.flat();
    expect(flat).toHaveLength(15 * 250);
    expect(flat.filter(([sent, got]) => sent !== got)).toEqual([]);
    for (const client of clients) {
      const stats = client.getStats();
      expect(stats.methods["session/ping"]).toMatchObject({ count: 250, errors: 0 });
      expect(stats.reconnects).toBe(25);
    }
    const retransmits = clients.reduce((sum, client) => sum + client.getStats().retransmits, 0);
    expect(retransmits).toBeGreaterThan(0);
  }, 60_000);

  it("runs every side-effecting call once: pipelines fill exactly maxPlaybackSessions while connections drop", async () => {
    await using app = await TestApp.start({ config: { resources: { maxPlaybackSessions: 16 } } });
    const clients = await Promise.all(
      Array.from({ length: 8 }, () => app.connect({ timeoutMs: STRESS_TIMEOUT_MS })),
    );
    // Each create is followed at once by a drop: the request reaches the server and runs, the
    // reply is lost with the connection, and the retransmit must be answered from the cache.
    const create = () =>
      Promise.all(
        clients.map(async (client) => {
          const first = client.createMediaPipeline();
          client.dropConnection();
          await connected(client);
          const second = client.createMediaPipeline();
          client.dropConnection();
          return Promise.all([first, second]);
        }),
      );
    // Step 1: 8 clients × 2 creates, each followed by a drop: all 16 succeed, none ran twice
    // (a create run twice would take a second session and make another fail).
    const pipelines: MediaPipeline[] = (await create()).flat();
    expect(new Set(pipelines.map((pipeline) => pipeline.id)).size).toBe(16);
    // Step 2: the 17th is refused.
    await expect(clients[0]?.createMediaPipeline()).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
    });
    // Step 3: destroying them all (with drops again) frees exactly 16 sessions: 16 more fit.
    await Promise.all(
      pipelines.map((pipeline, n) => {
        const destroyed = pipeline.destroy();
        if (n % 3 === 0) clients[n % clients.length]?.dropConnection();
        return destroyed;
      }),
    );
    expect((await create()).flat()).toHaveLength(16);
  }, 60_000);

  it("delivers 10,000 events in order, none lost or doubled, while connections drop", async () => {
    await using app = await TestApp.start();
    const client = await app.connect({ timeoutMs: STRESS_TIMEOUT_MS });
    const ticks: number[] = [];
    client.onEvent(TestMethods.tick, ({ n }) => ticks.push(n));
    for (let batch = 0; batch < 10; batch++) {
      const emitted = client.call(TestMethods.emitTicks, { count: 1000 });
      if (batch % 2 === 0) client.dropConnection();
      await emitted;
      if (batch % 3 === 1) client.dropConnection();
    }
    await eventually(() => ticks.length >= 10_000, "10,000 ticks");
    const expected = Array.from({ length: 10 }, () =>
      Array.from({ length: 1000 }, (_, n) => n + 1),
    ).flat();
    expect(ticks).toEqual(expected);
    const stats = client.getStats();
    expect(stats.reconnects).toBeGreaterThanOrEqual(5);
    // Replays after the drops did resend events already delivered: they were dropped as duplicates.
    expect(stats.duplicateEvents).toBeGreaterThan(0);
    // A later call proves nothing else was pending: still exactly 10,000.
    expect(await client.ping(1)).toBe(1);
    expect(ticks).toHaveLength(10_000);
  }, 60_000);
});
