import { afterEach, describe, expect, it } from "bun:test";
import { openSync } from "node:fs";
import { type AnyMethod, type CallOptions, RialtoError, ShmPoolMethods } from "@rialto/protocol";
import { TestMethods } from "@rialto/protocol/testing";
import { ShmPool, ShmPoolView } from "@rialto/shm";
import { PoolInvoker, type PoolInvokerOptions } from "./pool-invoker.ts";

type Behaviour = (method: string, params: unknown) => unknown | Promise<unknown>;

interface Sent {
  method: string;
  params: unknown;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/**
 * A PoolInvoker wired to an in-process stand-in for the session server: it reads pool calls
 * out of a second mapping of the pool (as the server does) and answers like `behave` says.
 */
function setUp(behave: Behaviour, options: Partial<PoolInvokerOptions> = {}) {
  const pool = ShmPool.create({ size: 16_384, heartbeatIntervalMs: 0 });
  const server = ShmPoolView.fromFd(openSync(`/proc/self/fd/${pool.fd}`, "r+"));
  cleanups.push(() => {
    server.close();
    pool.close();
  });
  const sent: Sent[] = [];
  const call = async (method: AnyMethod, params: unknown, callOptions: CallOptions = {}) => {
    sent.push({ method: method.name, params });
    if (method.name !== ShmPoolMethods.call.name) return behave(method.name, params);
    const descriptor = params as {
      offset: number;
      length: number;
      capacity: number;
      method: string;
    };
    const block = server.block(descriptor.offset, descriptor.capacity);
    const inner = JSON.parse(new TextDecoder().decode(block.subarray(0, descriptor.length)));
    const answer = behave(descriptor.method, inner);
    const deadline = new Promise((_, reject) =>
      setTimeout(
        () => reject(new RialtoError("TIMEOUT", "local deadline")),
        callOptions.timeoutMs ?? 3000,
      ),
    );
    const result = await Promise.race([answer, deadline]);
    const bytes = new TextEncoder().encode(JSON.stringify(result));
    if (bytes.byteLength > descriptor.capacity) return { placement: "inline", result };
    block.set(bytes);
    return { placement: "block", offset: descriptor.offset, length: bytes.byteLength };
  };
  const invoker = new PoolInvoker({
    pool,
    inlineLimit: 1024,
    msgTimeoutMs: 1000,
    maxConcurrentInvocations: 32,
    call: call as PoolInvokerOptions["call"],
    register: async () => 1,
    ...options,
  });
  return { invoker, pool, sent };
}

const echo = ({ text }: { text: string }) => ({ text });

describe("PoolInvoker", () => {
  it("sends params up to the inline limit inline", async () => {
    const { invoker, sent } = setUp((_, params) => echo(params as { text: string }));
    expect(await invoker.invoke(TestMethods.echo, { text: "small" })).toEqual({ text: "small" });
    expect(sent.map((entry) => entry.method)).toEqual(["test/echo"]);
  });

  it("sends larger params through a pool block and reads the reply from the same block", async () => {
    const { invoker, sent } = setUp((_, params) => echo(params as { text: string }));
    const text = "p".repeat(5000);
    expect(await invoker.invoke(TestMethods.echo, { text })).toEqual({ text });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      method: "shm/call",
      params: { poolId: 1, method: "test/echo" },
    });
    expect(invoker.stats()).toMatchObject({ poolCalls: 1, blocksInUse: 0, quarantined: 0 });
  });

  it("takes an inline reply when the result did not fit the block", async () => {
    const { invoker } = setUp(() => ({ text: "r".repeat(20_000) }));
    const result = await invoker.invoke(TestMethods.echo, { text: "q".repeat(2000) });
    expect(result.text).toHaveLength(20_000);
    expect(invoker.stats().blocksInUse).toBe(0);
  });

  it("sends params too large for the pool inline", async () => {
    const { invoker, sent } = setUp((_, params) => echo(params as { text: string }));
    await invoker.invoke(TestMethods.echo, { text: "z".repeat(20_000) });
    expect(sent.map((entry) => entry.method)).toEqual(["test/echo"]);
  });

  it("refuses the call past the concurrency limit at once, without sending it", async () => {
    const gate = Promise.withResolvers<void>();
    const { invoker, sent } = setUp(async (_, params) => {
      await gate.promise;
      return echo(params as { text: string });
    });
    const text = "c".repeat(2000);
    const running = Array.from({ length: 32 }, () => invoker.invoke(TestMethods.echo, { text }));
    await expect(invoker.invoke(TestMethods.echo, { text })).rejects.toMatchObject({
      code: "TOO_MANY_INVOCATIONS",
    });
    gate.resolve();
    await Promise.all(running);
    expect(sent).toHaveLength(32);
    expect(invoker.stats()).toMatchObject({ refused: 1, running: { test: 0 }, blocksInUse: 0 });
    expect(await invoker.invoke(TestMethods.echo, { text })).toEqual({ text });
  });

  it("keeps a timed-out call's block and slot until the server's reply for it arrives", async () => {
    const late = Promise.withResolvers<void>();
    const { invoker } = setUp(
      async (_, params) => {
        await late.promise;
        return echo(params as { text: string });
      },
      { msgTimeoutMs: 20, maxConcurrentInvocations: 1 },
    );
    const text = "t".repeat(2000);
    await expect(invoker.invoke(TestMethods.echo, { text })).rejects.toMatchObject({
      code: "TIMEOUT",
    });
    expect(invoker.stats()).toMatchObject({ blocksInUse: 1, running: { test: 1 } });
    await expect(invoker.invoke(TestMethods.echo, { text })).rejects.toMatchObject({
      code: "TOO_MANY_INVOCATIONS",
    });
    late.resolve();
    const deadline = performance.now() + 2000;
    while (invoker.stats().blocksInUse > 0 && performance.now() < deadline) await Bun.sleep(2);
    expect(invoker.stats()).toMatchObject({ blocksInUse: 0, running: { test: 0 }, quarantined: 0 });
  });

  it("never reuses the block of a call the server stays silent about, until the server forgot the client", async () => {
    const { invoker } = setUp(() => new Promise(() => {}), { msgTimeoutMs: 10, replyGraceMs: 10 });
    await expect(
      invoker.invoke(TestMethods.echo, { text: "s".repeat(2000) }),
    ).rejects.toMatchObject({
      code: "TIMEOUT",
    });
    const deadline = performance.now() + 2000;
    while (invoker.stats().quarantined === 0 && performance.now() < deadline) await Bun.sleep(2);
    expect(invoker.stats()).toMatchObject({ quarantined: 1, blocksInUse: 1, running: { test: 0 } });
    invoker.reset();
    expect(invoker.stats()).toMatchObject({ quarantined: 0, blocksInUse: 0 });
  });

  it("frees the block when the server answers with an error or the connection is gone", async () => {
    let failure = new RialtoError("INVALID_STATE", "not now");
    const { invoker } = setUp(() => {
      throw failure;
    });
    const text = "e".repeat(2000);
    await expect(invoker.invoke(TestMethods.echo, { text })).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    failure = new RialtoError("CONNECTION_LOST", "gave up");
    await expect(invoker.invoke(TestMethods.echo, { text })).rejects.toMatchObject({
      code: "CONNECTION_LOST",
    });
    expect(invoker.stats()).toMatchObject({ blocksInUse: 0, quarantined: 0, running: { test: 0 } });
  });

  it("rejects a reply that does not match the method's result schema with PROTOCOL_ERROR", async () => {
    const { invoker } = setUp(() => ({ wrong: true }));
    await expect(
      invoker.invoke(TestMethods.echo, { text: "w".repeat(2000) }),
    ).rejects.toMatchObject({
      code: "PROTOCOL_ERROR",
    });
    expect(invoker.stats().blocksInUse).toBe(0);
  });

  it("registers the pool once, and again after the server forgot the client", async () => {
    let registrations = 0;
    const { invoker } = setUp((_, params) => echo(params as { text: string }), {
      register: async () => ++registrations,
    });
    const text = "r".repeat(2000);
    await Promise.all([
      invoker.invoke(TestMethods.echo, { text }),
      invoker.invoke(TestMethods.echo, { text }),
    ]);
    expect(registrations).toBe(1);
    invoker.reset();
    await invoker.invoke(TestMethods.echo, { text });
    expect(registrations).toBe(2);
  });
});
