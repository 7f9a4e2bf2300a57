import { describe, expect, it } from "bun:test";
import { ReplyCache } from "./reply-cache.ts";

const reply = (id: number, text: string) => ({ id, result: { text } });

describe("ReplyCache", () => {
  it("keeps every reply, errors included, until the client acknowledges it", () => {
    const cache = new ReplyCache();
    cache.add(1, "test/echo", reply(1, "one"), () => 0);
    cache.add(2, "test/fail", { id: 2, error: { code: "INVALID_STATE", message: "no" } }, () => 0);
    cache.add(3, "test/echo", reply(3, "three"), () => 0);
    expect(cache.lookup(2)?.reply).toEqual({
      id: 2,
      error: { code: "INVALID_STATE", message: "no" },
    });
    expect(cache.acknowledge(2)).toBe(2);
    expect(cache.lookup(1)).toBeUndefined();
    expect(cache.lookup(3)?.reply).toEqual(reply(3, "three"));
  });

  it("only moves its acknowledgement forward (retransmitted frames carry older acks)", () => {
    const cache = new ReplyCache();
    cache.acknowledge(5);
    cache.add(6, "test/echo", reply(6, "six"), () => 0);
    expect(cache.acknowledge(3)).toBe(0);
    expect(cache.acknowledged).toBe(5);
    expect(cache.size).toBe(1);
  });

  it("holds a running call as its promise and then as its outcome", async () => {
    const cache = new ReplyCache();
    const running = Promise.withResolvers<ReturnType<typeof reply>>();
    cache.add(1, "test/sleep", running.promise, () => 42);
    expect(cache.running).toBe(1);
    expect(cache.lookup(1)?.reply).toBe(running.promise);
    running.resolve(reply(1, "done"));
    await running.promise;
    expect(cache.running).toBe(0);
    expect(cache.lookup(1)?.reply).toEqual(reply(1, "done"));
  });

  it("does not bring back a running call acknowledged before it finished", async () => {
    const cache = new ReplyCache();
    const running = Promise.withResolvers<ReturnType<typeof reply>>();
    cache.add(1, "test/sleep", running.promise, () => 0);
    cache.acknowledge(1);
    running.resolve(reply(1, "late"));
    await running.promise;
    expect(cache.size).toBe(0);
  });

  it("expires completed replies past the TTL but never running ones", () => {
    const cache = new ReplyCache();
    cache.add(1, "test/echo", reply(1, "old"), () => 100);
    cache.add(2, "test/echo", reply(2, "new"), () => 900);
    cache.add(3, "test/sleep", new Promise(() => {}), () => 0);
    expect(cache.expire(1100, 1000)).toBe(1);
    expect(cache.lookup(1)).toBeUndefined();
    expect(cache.lookup(2)).toBeDefined();
    expect(cache.expire(1_000_000, 1000)).toBe(1);
    expect(cache.running).toBe(1);
  });
});
