import { describe, expect, it } from "bun:test";
import { WorkQueue } from "./work-queue.ts";

/** A job that records when it starts and ends, and holds its lane until `release()`. */
function gate() {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, release: () => resolve() };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("WorkQueue", () => {
  it("runs one lane's jobs in order, each after the previous one's hold settled", async () => {
    const queue = new WorkQueue({ concurrency: 4 });
    const log: string[] = [];
    const first = gate();
    const a = queue.enqueue((hold) => {
      log.push("a1");
      hold(first.promise, 10_000);
      return "a1 done";
    }, "app");
    const b = queue.enqueue(() => log.push("a2"), "app");
    expect(await a).toBe("a1 done");
    await tick();
    expect(log).toEqual(["a1"]);
    first.release();
    await b;
    expect(log).toEqual(["a1", "a2"]);
  });

  it("runs different lanes side by side, at most `concurrency` at once", async () => {
    const queue = new WorkQueue({ concurrency: 2 });
    const gates = [gate(), gate(), gate()];
    let running = 0;
    let most = 0;
    const jobs = gates.map((g, i) =>
      queue.enqueue(async () => {
        running++;
        most = Math.max(most, running);
        await g.promise;
        running--;
      }, `app${i}`),
    );
    await tick();
    expect(running).toBe(2);
    gates[0]?.release();
    await jobs[0];
    await tick();
    expect(running).toBe(2);
    gates[1]?.release();
    gates[2]?.release();
    await Promise.all(jobs);
    expect(most).toBe(2);
    expect(queue.length).toBe(0);
  });

  it("runs a job without a lane alone: after every earlier job, before every later one", async () => {
    const queue = new WorkQueue({ concurrency: 4 });
    const log: string[] = [];
    const slow = gate();
    const early = queue.enqueue(async () => {
      await slow.promise;
      log.push("early");
    }, "a");
    const barrier = queue.enqueue(() => log.push("barrier"));
    const late = queue.enqueue(() => log.push("late"), "b");
    await tick();
    expect(log).toEqual([]);
    slow.release();
    await Promise.all([early, barrier, late]);
    expect(log).toEqual(["early", "barrier", "late"]);
  });

  it("rejects with the job's error as a RialtoError and goes on with the lane", async () => {
    const queue = new WorkQueue();
    const failed = queue.enqueue(() => {
      throw new Error("boom");
    }, "a");
    await expect(failed).rejects.toMatchObject({ code: "INTERNAL", message: "boom" });
    expect(await queue.enqueue(() => 7, "a")).toBe(7);
  });
});
