import { describe, expect, it } from "bun:test";
import { runHeartbeat } from "./heartbeat.ts";

const answers = (name: string, counts = true) => ({
  name,
  counts,
  beat: () => Promise.resolve(),
});
const silent = (name: string, counts = true) => ({
  name,
  counts,
  beat: () => new Promise<void>(() => {}),
});

describe("runHeartbeat", () => {
  it("is ok at once when every target answers, and with no targets at all", async () => {
    expect(await runHeartbeat([answers("pipeline 1"), answers("client 2", false)], 1000)).toEqual({
      ok: true,
      late: [],
    });
    expect(await runHeartbeat([], 1000)).toEqual({ ok: true, late: [] });
  });

  it("is not ok when a server worker misses the deadline, and names it", async () => {
    const started = performance.now();
    const outcome = await runHeartbeat([answers("pipeline 1"), silent("pipeline 2")], 50);
    expect(outcome).toEqual({ ok: false, late: ["pipeline 2"] });
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
  });

  it("stays ok when only a client misses it, naming the client", async () => {
    expect(await runHeartbeat([answers("pipeline 1"), silent("client 7", false)], 30)).toEqual({
      ok: true,
      late: ["client 7"],
    });
  });

  it("counts a target whose beat fails as late", async () => {
    const failing = { name: "player 3", counts: true, beat: () => Promise.reject(new Error("x")) };
    expect(await runHeartbeat([failing], 1000)).toEqual({ ok: false, late: ["player 3"] });
  });
});
