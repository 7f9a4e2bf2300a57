import { describe, expect, it } from "bun:test";
import { Counter, Registry } from "prom-client";
import { RisingCounter } from "./rising-counter.ts";

async function value(
  registry: Registry,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = await registry.getSingleMetric("frames_total")?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    ?.value;
}

describe("RisingCounter", () => {
  it("adds what another process's total grew by, and a restarted total from 0", async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: "frames_total",
      help: "test",
      labelNames: ["app"],
      registers: [registry],
    });
    const rising = new RisingCounter(counter);
    rising.update({ app: "a" }, 0, 100);
    expect(await value(registry, { app: "a" })).toBe(0);
    rising.update({ app: "a" }, 10, 100);
    rising.update({ app: "a" }, 25, 100);
    expect(await value(registry, { app: "a" })).toBe(25);
    // The same producer's total falling (a counter reset inside it) adds the new total.
    rising.update({ app: "a" }, 5, 100);
    expect(await value(registry, { app: "a" })).toBe(30);
    // A new producer (restarted process) starts from 0, even with a larger total.
    rising.update({ app: "a" }, 40, 200);
    expect(await value(registry, { app: "a" })).toBe(70);
    rising.remove({ app: "a" });
    expect(await value(registry, { app: "a" })).toBeUndefined();
  });
});
