import { afterEach, describe, expect, it } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  type ApplicationState,
  connectUnix,
  DEFAULT_RESOURCES,
  decodeFdTag,
  encodeFdTag,
  PipelineMethods,
  PROTOCOL_VERSION,
  type Resources,
  RetryClient,
  readRpcEnvironment,
  SessionEvents,
  SessionMethods,
  ShmPoolMethods,
} from "@rialto/protocol";
import { connectSideChannel, SharedMemory, ShmPool, type SideChannelConnection } from "@rialto/shm";
import pino from "pino";
import { AvMemory } from "../av-memory.ts";
import type { ClientGateway } from "../client-gateway/client-gateway.ts";
import { openClientListener } from "../client-listener.ts";
import { makeSocketDir } from "../test-support/session-server-process.ts";
import { createClientSessions } from "./client-sessions.ts";

interface TestApp {
  gateway: ClientGateway;
  socketPath: string;
  /** Moves the app to Running (allocating AV memory) or Inactive, as the state machine does. */
  setState(state: ApplicationState): void;
  connect(): Promise<{ client: RetryClient; side: () => SideChannelConnection }>;
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startApp(
  options: { resources?: Partial<Resources>; env?: Record<string, string> } = {},
): Promise<TestApp> {
  const dir = makeSocketDir();
  const socketPath = join(dir, "app.sock");
  const resources = { ...DEFAULT_RESOURCES, ...options.resources };
  let memory: AvMemory | undefined;
  const listener = await openClientListener(socketPath, 0o600);
  const gateway = createClientSessions({
    logger: pino({ level: "silent" }),
    resources,
    applicationState: "Inactive",
    avMemory: () => memory,
    environment: readRpcEnvironment({ RIALTO_CLIENT_GRACE_MS: "5000", ...options.env }),
    testMethods: true,
  });
  gateway.start(listener);
  cleanups.push(async () => {
    await gateway[Symbol.asyncDispose]();
    listener.close();
    memory?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const setState = (state: ApplicationState) => {
    if (state === "Running") memory ??= AvMemory.allocate(resources);
    else {
      gateway.releaseAllResources();
      memory?.close();
      memory = undefined;
    }
    gateway.setApplicationState(state);
  };
  const connect = async () => {
    let side: SideChannelConnection | undefined;
    const client = await RetryClient.connect({
      connect: () => connectUnix(socketPath),
      registration: (fresh) => {
        if (!fresh) return { protocolVersion: PROTOCOL_VERSION };
        side?.channel.close();
        side = connectSideChannel(`${socketPath}.fd`);
        return { protocolVersion: PROTOCOL_VERSION, fdToken: side.token.toHex() };
      },
      reconnect: { initialDelayMs: 5, maxRetries: 4 },
    });
    cleanups.push(() => {
      client.close();
      side?.channel.close();
    });
    return { client, side: () => side as SideChannelConnection };
  };
  return { gateway, socketPath, setState, connect };
}

/** Creates a pool, passes it over the side channel and registers it. */
async function registerPool(client: RetryClient, side: SideChannelConnection, size = 8192) {
  const pool = ShmPool.create({ size, heartbeatIntervalMs: 0 });
  cleanups.push(() => pool.close());
  side.channel.sendFds([pool.fd], encodeFdTag(7));
  const { poolId } = await client.call(ShmPoolMethods.registerPool, { size, fdTag: 7 });
  return { pool, poolId };
}

/** Writes `params` as JSON into a fresh pool block; returns the block and its descriptor fields. */
function writeBlock(pool: ShmPool, params: unknown, capacity?: number) {
  const bytes = new TextEncoder().encode(JSON.stringify(params));
  const block = pool.alloc(capacity ?? bytes.byteLength) as Uint8Array;
  block.set(bytes);
  return {
    block,
    descriptor: {
      offset: pool.offsetOf(block),
      length: bytes.byteLength,
      capacity: block.byteLength,
    },
  };
}

describe("client sessions over retry-RPC", () => {
  it("registers a client and pushes its application state, then every change", async () => {
    const app = await startApp();
    const { client } = await app.connect();
    const states: string[] = [];
    client.on(SessionEvents.applicationState, ({ state }) => states.push(state));
    app.setState("Running");
    app.setState("Inactive");
    await client.call(SessionMethods.ping, { value: 1 });
    expect(states.slice(-2)).toEqual(["Running", "Inactive"]);
    expect(client.clientId).toBeGreaterThan(0);
  });

  it("refuses a client of another protocol major with INCOMPATIBLE_VERSION", async () => {
    const app = await startApp();
    await expect(
      RetryClient.connect({
        connect: () => connectUnix(app.socketPath),
        registration: () => ({ protocolVersion: "9.0.0" }),
      }),
    ).rejects.toMatchObject({ code: "INCOMPATIBLE_VERSION" });
  });

  it("hands out the AV memfd over the side channel only while the app is Running", async () => {
    const app = await startApp();
    const { client, side } = await app.connect();
    await expect(client.call(SessionMethods.getSharedMemory, {})).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
    app.setState("Running");
    const info = await client.call(SessionMethods.getSharedMemory, {});
    const record = side().channel.receive();
    expect(record && decodeFdTag(record.data)).toBe(info.fdTag);
    using memory = SharedMemory.fromFd(record?.fds[0] as number, { expectedSize: info.size });
    expect(memory.size).toBe(info.size);
  });

  it("creates pipelines up to maxPlaybackSessions over all clients, then RESOURCE_EXHAUSTED", async () => {
    const app = await startApp({ resources: { maxPlaybackSessions: 2 } });
    app.setState("Running");
    const a = (await app.connect()).client;
    const b = (await app.connect()).client;
    const first = await a.call(PipelineMethods.create, {});
    await b.call(PipelineMethods.create, { maxWidth: 1920, maxHeight: 1080 });
    await expect(a.call(PipelineMethods.create, {})).rejects.toMatchObject({
      code: "RESOURCE_EXHAUSTED",
    });
    await expect(
      b.call(PipelineMethods.destroy, { pipelineId: first.pipelineId }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    await a.call(PipelineMethods.destroy, { pipelineId: first.pipelineId });
    await a.call(PipelineMethods.create, {});
  });

  it("refuses media calls while the app is Inactive with INVALID_STATE", async () => {
    const app = await startApp();
    const { client } = await app.connect();
    await expect(client.call(PipelineMethods.create, {})).rejects.toMatchObject({
      code: "INVALID_STATE",
      message: '"pipeline/create": media calls need the app Running (it is Inactive)',
    });
  });

  it("frees a client's pipelines on releaseResources, on Inactive and when its grace period ends", async () => {
    const app = await startApp({
      resources: { maxPlaybackSessions: 1 },
      env: { RIALTO_CLIENT_GRACE_MS: "30" },
    });
    app.setState("Running");
    const { client } = await app.connect();
    await client.call(PipelineMethods.create, {});
    await client.call(SessionMethods.releaseResources, {});
    await client.call(PipelineMethods.create, {});
    app.setState("Inactive");
    app.setState("Running");
    await client.call(PipelineMethods.create, {});
    client.close();
    const other = (await app.connect()).client;
    const deadline = performance.now() + 3000;
    for (;;) {
      const created = await other.call(PipelineMethods.create, {}).catch((error) => error);
      if (!(created instanceof Error)) break;
      expect(created).toMatchObject({ code: "RESOURCE_EXHAUSTED" });
      if (performance.now() > deadline) throw new Error("the grace period never released");
      await Bun.sleep(10);
    }
  });

  it("keeps a client's pipelines when it reconnects within the grace period", async () => {
    const app = await startApp({ resources: { maxPlaybackSessions: 1 } });
    app.setState("Running");
    const { client } = await app.connect();
    const { pipelineId } = await client.call(PipelineMethods.create, {});
    client.dropConnection();
    await client.call(PipelineMethods.destroy, { pipelineId });
    expect(client.stats().reconnects).toBe(1);
  });

  it("runs a pool call from a block and writes the result into the same block", async () => {
    const app = await startApp();
    const { client, side } = await app.connect();
    const { pool, poolId } = await registerPool(client, side());
    const text = "x".repeat(5000);
    const { block, descriptor } = writeBlock(pool, { text });
    block.fill(0x20, descriptor.length);
    const reply = await client.call(ShmPoolMethods.call, {
      poolId,
      method: "test/echo",
      ...descriptor,
    });
    expect(reply).toEqual({
      placement: "block",
      offset: descriptor.offset,
      length: descriptor.length,
    });
    expect(JSON.parse(new TextDecoder().decode(block.subarray(0, descriptor.length)))).toEqual({
      text,
    });
  });

  it("replies inline when the result does not fit the block", async () => {
    const app = await startApp();
    const { client, side } = await app.connect();
    const { pool, poolId } = await registerPool(client, side());
    const { descriptor } = writeBlock(pool, { bytes: 3000 });
    const reply = await client.call(ShmPoolMethods.call, {
      poolId,
      method: "test/blob",
      ...descriptor,
    });
    expect(reply).toEqual({ placement: "inline", result: { text: "x".repeat(3000) } });
  });

  it("refuses descriptors outside the pool, of another pool, or over garbage, with INVALID_ARGUMENT", async () => {
    const app = await startApp();
    const { client, side } = await app.connect();
    const { pool, poolId } = await registerPool(client, side());
    const { block, descriptor } = writeBlock(pool, { text: "ok" });
    const call = (overrides: object) =>
      client.call(ShmPoolMethods.call, {
        poolId,
        method: "test/echo",
        ...descriptor,
        ...overrides,
      });
    await expect(call({ offset: 8192 })).rejects.toThrow(/lies outside pool/);
    await expect(call({ capacity: 9000, length: 2 })).rejects.toThrow(/lies outside pool/);
    await expect(call({ offset: 0 })).rejects.toThrow(/lies outside pool/);
    await expect(call({ poolId: poolId + 1 })).rejects.toThrow(/is not the pool client/);
    await expect(call({ method: "session/ping" })).rejects.toThrow(/cannot run through the pool/);
    block.set([0xff, 0xfe]);
    await expect(call({})).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("not UTF-8 JSON"),
    });
    expect(await client.call(SessionMethods.ping, { value: 5 })).toEqual({ value: 5 });
  });

  it("runs at most the configured number of pool calls of one service at once", async () => {
    const app = await startApp({ env: { RIALTO_SHM_MAX_CONCURRENT_INVOCATIONS: "4" } });
    const { client, side } = await app.connect();
    const { pool, poolId } = await registerPool(client, side());
    const sleeps = Array.from({ length: 4 }, () =>
      client.call(ShmPoolMethods.call, {
        poolId,
        method: "test/sleep",
        ...writeBlock(pool, { ms: 200 }).descriptor,
      }),
    );
    const fifth = { poolId, method: "test/sleep", ...writeBlock(pool, { ms: 0 }).descriptor };
    await expect(client.call(ShmPoolMethods.call, fifth)).rejects.toMatchObject({
      code: "TOO_MANY_INVOCATIONS",
    });
    await Promise.all(sleeps);
    const again = { poolId, method: "test/sleep", ...writeBlock(pool, { ms: 0 }).descriptor };
    expect(await client.call(ShmPoolMethods.call, again)).toMatchObject({ placement: "block" });
  });

  it("fails a pool call that outruns RIALTO_SHM_MSG_TIMEOUT with TIMEOUT and frees its slot", async () => {
    const app = await startApp({
      env: { RIALTO_SHM_MSG_TIMEOUT: "30", RIALTO_SHM_MAX_CONCURRENT_INVOCATIONS: "1" },
    });
    const { client, side } = await app.connect();
    const { pool, poolId } = await registerPool(client, side());
    const slow = { poolId, method: "test/sleep", ...writeBlock(pool, { ms: 300 }).descriptor };
    await expect(client.call(ShmPoolMethods.call, slow)).rejects.toMatchObject({
      code: "TIMEOUT",
      message: '"shm/call": "test/sleep" took longer than 30 ms',
    });
    const quick = { poolId, method: "test/sleep", ...writeBlock(pool, { ms: 0 }).descriptor };
    expect(await client.call(ShmPoolMethods.call, quick)).toMatchObject({ placement: "block" });
  });
});
