import { describe, expect, it } from "bun:test";
import { ProcessSampler, type ProcessUsage, readProcessUsage } from "./process-usage.ts";

describe("process usage from /proc", () => {
  it("reads this process's resident memory and CPU time", () => {
    const usage = readProcessUsage(process.pid);
    expect(usage?.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(usage?.cpuSeconds).toBeGreaterThan(0);
    expect(readProcessUsage(2 ** 22 + 1)).toBeUndefined();
  });

  it("reads a pid again only once its reading is older than maxAgeMs, and computes CPU between real readings", () => {
    let nowMs = 0;
    let cpuSeconds = 10;
    let reads = 0;
    const read = (): ProcessUsage => {
      reads++;
      return { rssBytes: 4096, cpuSeconds };
    };
    const sampler = new ProcessSampler(5000, () => nowMs, read);
    expect(sampler.usage(7)?.cpuPercent).toBe(0);
    nowMs = 1000;
    cpuSeconds = 10.5;
    expect(sampler.usage(7)?.cpuSeconds).toBe(10);
    expect(reads).toBe(1);
    nowMs = 5000;
    // 0.5 s of CPU over 5 s: 10 % of one core.
    expect(sampler.usage(7)).toMatchObject({ cpuSeconds: 10.5, cpuPercent: 10 });
    expect(reads).toBe(2);
    sampler.retain(new Set());
    expect(sampler.usage(7)?.cpuPercent).toBe(0);
    expect(reads).toBe(3);
  });
});
