import { describe, expect, it } from "bun:test";
import {
  connectUnix,
  FRAME_HEADER_LENGTH,
  FrameType,
  RpcPeer,
  ShmPoolMethods,
  writeFrameHeader,
} from "@rialto/protocol";
import { TestMethods } from "@rialto/protocol/testing";
import { ShmPool } from "@rialto/shm";
import { RawSessionClient } from "./support/raw-session-client.ts";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

/** The longest text whose `{"text": ...}` fills the largest block of a pool of `size` bytes. */
function longestText(size: number): number {
  using pool = ShmPool.create({ size, heartbeatIntervalMs: 0 });
  return pool.maxAllocation - JSON.stringify({ text: "" }).length;
}

describe("shared-memory RPC pool (real session server)", () => {
  it("sends calls above the inline limit through the pool, up to the pool's size, and inline beyond", async () => {
    await using app = await TestApp.start();
    const client = await app.connect();
    const largest = longestText(262_144);
    const sizes = [100, 4000, 4100, 65_536, 200_000, largest, largest + 1, 300_000];
    for (const size of sizes) {
      const text = String.fromCharCode(97 + (size % 26)).repeat(size);
      expect((await client.call(TestMethods.echo, { text })).text).toBe(text);
    }
    const { shm } = client.getStats();
    // 4100 .. largest went through the pool; 100, 4000 (under 4096 bytes) and the two larger
    // than any block went inline.
    expect(shm).toMatchObject({ poolCalls: 4, inlineCalls: 4, blocksInUse: 0, quarantined: 0 });
  });

  it("uses a pool of RIALTO_SHM_POOL_SIZE bytes, down to the 8192-byte minimum", async () => {
    await using app = await TestApp.start();
    const client = await app.connect({ env: { RIALTO_SHM_POOL_SIZE: "8192" } });
    const text = "m".repeat(longestText(8192));
    expect((await client.call(TestMethods.echo, { text })).text).toBe(text);
    expect(client.getStats().shm.poolCalls).toBe(1);
  });

  it("fails the 33rd concurrent pool call at once with TOO_MANY_INVOCATIONS and gets every slot back", async () => {
    await using app = await TestApp.start();
    // An inline limit of 1 byte sends every call, even `{"ms":0}`, through the pool.
    const client = await app.connect({ shmInlineLimit: 1 });
    let finished = 0;
    const sleeps = Array.from({ length: 32 }, () =>
      client.call(TestMethods.sleep, { ms: 300 }).then(() => finished++),
    );
    await expect(client.call(TestMethods.sleep, { ms: 0 })).rejects.toMatchObject({
      code: "TOO_MANY_INVOCATIONS",
    });
    expect(finished).toBe(0);
    await Promise.all(sleeps);
    expect(client.getStats().shm).toMatchObject({
      poolCalls: 32,
      refused: 1,
      running: { test: 0 },
      blocksInUse: 0,
    });
    expect(await client.call(TestMethods.sleep, { ms: 0 })).toEqual({ ms: 0 });
  });

  it("times a pool call out at RIALTO_SHM_MSG_TIMEOUT but frees its block only once the server answered", async () => {
    await using app = await TestApp.start();
    const client = await app.connect({ shmInlineLimit: 1, env: { RIALTO_SHM_MSG_TIMEOUT: "100" } });
    await expect(client.call(TestMethods.sleep, { ms: 600 })).rejects.toMatchObject({
      code: "TIMEOUT",
    });
    // The server is still running the call and may write its reply into the block.
    expect(client.getStats().shm).toMatchObject({ blocksInUse: 1, running: { test: 1 } });
    await eventually(() => client.getStats().shm.blocksInUse === 0, "the late reply");
    expect(client.getStats().shm).toMatchObject({ running: { test: 0 }, quarantined: 0 });
  });

  it("ends a pool call that outruns the session server's RIALTO_SHM_MSG_TIMEOUT with TIMEOUT", async () => {
    await using app = await TestApp.start({ env: { RIALTO_SHM_MSG_TIMEOUT: "100" } });
    const client = await app.connect({ shmInlineLimit: 1 });
    await expect(client.call(TestMethods.sleep, { ms: 2000 })).rejects.toThrow(
      /"test\/sleep" took longer than 100 ms/,
    );
    expect(client.getStats().shm).toMatchObject({ blocksInUse: 0, running: { test: 0 } });
  });

  it("answers a hostile client's bad descriptors and frames with errors while serving the others", async () => {
    await using app = await TestApp.start();
    const good = await app.connect();
    const serving = async () => {
      expect(await good.ping(42)).toBe(42);
      const text = "g".repeat(10_000);
      expect((await good.call(TestMethods.echo, { text })).text).toBe(text);
    };
    // Step 1: descriptors outside the pool, over the header, with garbage, of another pool.
    await using hostile = await RawSessionClient.connect(app.socketPath);
    const { pool, poolId } = await hostile.registerPool();
    const block = pool.alloc(64) as Uint8Array;
    const offset = pool.offsetOf(block);
    block.set(new TextEncoder().encode('{"text":"hi"}'));
    const call = (overrides: Partial<Record<string, number | string>>) =>
      hostile.peer.call(ShmPoolMethods.call, {
        poolId,
        offset,
        length: 13,
        capacity: 64,
        method: "test/echo",
        ...overrides,
      });
    expect(await call({})).toEqual({ placement: "block", offset, length: 13 });
    for (const bad of [
      { offset: 1_000_000 },
      { offset: 8190 },
      { offset: 0 },
      { capacity: 100_000 },
      { poolId: poolId + 5 },
      { length: 64, capacity: 64 },
      { method: "session/register" },
    ]) {
      await expect(call(bad)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    await serving();
    // Step 2: a frame whose body is not JSON is answered; the connection keeps serving.
    const garbageBody = new Uint8Array(FRAME_HEADER_LENGTH + 4);
    writeFrameHeader(garbageBody, FrameType.Request, 4);
    garbageBody.set([0xff, 0x00, 0x7b, 0x22], FRAME_HEADER_LENGTH);
    hostile.peer.writeRaw(garbageBody);
    expect(await call({})).toMatchObject({ placement: "block" });
    await eventually(() => hostile.notices.length > 0, "the PROTOCOL_ERROR notice");
    expect(hostile.notices[0]?.code).toBe("PROTOCOL_ERROR");
    // Step 3: an oversized frame is refused before anything is allocated; that connection ends.
    const oversized = new Uint8Array(FRAME_HEADER_LENGTH);
    writeFrameHeader(oversized, FrameType.Request, 512 * 1024 * 1024);
    hostile.peer.writeRaw(oversized);
    await hostile.closed;
    await serving();
    // Step 4: bytes that are not a frame at all end that connection too.
    const noise = new RpcPeer({ transport: await connectUnix(app.socketPath) });
    noise.writeRaw(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await eventually(() => !noise.isConnected, "the noisy connection to close");
    noise.close();
    await serving();
  });
});
