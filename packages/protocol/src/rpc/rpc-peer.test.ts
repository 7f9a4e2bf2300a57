import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RialtoError } from "../errors.ts";
import { FrameDecoder } from "../framing/frame-decoder.ts";
import { encodeJsonFrame } from "../framing/frame-encoder.ts";
import { FRAME_HEADER_LENGTH, FrameType } from "../framing/frame-header.ts";
import { createTestRouter, TestMethods } from "../test-support/test-methods.ts";
import { createMemoryTransportPair } from "./memory-transport.ts";
import { RpcPeer, type RpcPeerOptions } from "./rpc-peer.ts";
import { connectUnix, listenUnix, type SocketTransport } from "./socket-transport.ts";
import type { Transport } from "./transport.ts";

type TransportPairFactory = () => Promise<{
  client: Transport;
  server: Transport;
  cleanup(): void;
}>;

const memoryPair: TransportPairFactory = async () => {
  const [client, server] = createMemoryTransportPair({
    // Scramble chunk boundaries so the decoder's reassembly is exercised too.
    split: (bytes) => (bytes.byteLength > 3 ? [bytes.subarray(0, 3), bytes.subarray(3)] : [bytes]),
  });
  return { client, server, cleanup() {} };
};

const unixSocketPair: TransportPairFactory = async () => {
  const dir = mkdtempSync(join(tmpdir(), "rialto-rpc-"));
  const accepted = Promise.withResolvers<SocketTransport>();
  const listener = await listenUnix(join(dir, "rpc.sock"), (transport) =>
    accepted.resolve(transport),
  );
  const client = await connectUnix(listener.path);
  const server = await accepted.promise;
  return {
    client,
    server,
    cleanup() {
      client.close();
      server.close();
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const MAX_FRAME = 64 * 1024;

/** One suite, run over every transport. */
function describeRpcSuite(name: string, makePair: TransportPairFactory) {
  describe(`RpcPeer over ${name}`, () => {
    const cleanups: (() => void)[] = [];
    afterEach(() => {
      for (const cleanup of cleanups.splice(0)) cleanup();
    });

    async function connect(clientOptions: RpcPeerOptions<undefined> = {}) {
      const pair = await makePair();
      const errors: RialtoError[] = [];
      const server = new RpcPeer<unknown>({
        name: "server",
        transport: pair.server,
        router: createTestRouter(),
        maxFrameLength: MAX_FRAME,
        onError: (error) => errors.push(error),
      });
      const client = new RpcPeer({
        name: "client",
        transport: pair.client,
        maxFrameLength: MAX_FRAME,
        ...clientOptions,
      });
      cleanups.push(() => {
        client.close();
        server.close();
        pair.cleanup();
      });
      return { client, server, errors };
    }

    /** A client that speaks raw frames, to play a hostile or buggy peer. */
    async function connectRaw() {
      const pair = await makePair();
      const server = new RpcPeer<unknown>({
        name: "server",
        transport: pair.server,
        router: createTestRouter(),
        maxFrameLength: MAX_FRAME,
      });
      cleanups.push(() => {
        server.close();
        pair.cleanup();
      });
      const received: { type: number; body: unknown }[] = [];
      let wake = () => {};
      const closed = Promise.withResolvers<void>();
      const decoder = new FrameDecoder();
      pair.client.start({
        data(bytes) {
          decoder.push(bytes, (frame) =>
            received.push({
              type: frame.type,
              body: JSON.parse(Buffer.from(frame.body).toString()),
            }),
          );
          wake();
        },
        close: () => closed.resolve(),
      });
      return {
        transport: pair.client,
        closed: closed.promise,
        send: (type: FrameType, body: unknown) => pair.client.write(encodeJsonFrame(type, body)),
        /** Waits (up to 2 s) until `count` frames arrived. */
        async frames(count: number) {
          const deadline = Date.now() + 2000;
          while (received.length < count && Date.now() < deadline) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, 50);
            });
          }
          return received.slice(0, count);
        },
      };
    }

    it("answers a call with the handler's result", async () => {
      const { client } = await connect();
      expect(await client.call(TestMethods.echo, { text: "hello" })).toEqual({ text: "hello" });
    });

    it("settles 500 concurrent calls each with its own answer", async () => {
      const { client } = await connect();
      const texts = Array.from({ length: 500 }, (_, i) => `call-${i}`);
      const results = await Promise.all(
        texts.map((text) => client.call(TestMethods.echo, { text })),
      );
      expect(results.map((r) => r.text)).toEqual(texts);
      expect(client.pendingCalls).toBe(0);
      expect(client.repliesSeen).toBe(500);
    });

    it("carries a handler's RialtoError code and message to the caller", async () => {
      const { client } = await connect();
      const error = await client
        .call(TestMethods.fail, { code: "INVALID_STATE", message: "not now" })
        .catch((e) => e);
      expect(error).toBeInstanceOf(RialtoError);
      expect(error.code).toBe("INVALID_STATE");
      expect(error.message).toBe("not now");
    });

    it("answers an unknown method with UNKNOWN_METHOD", async () => {
      const { client } = await connect();
      const error = await client.call(TestMethods.missing, {}).catch((e) => e);
      expect(error.code).toBe("UNKNOWN_METHOD");
      expect(error.message).toContain("test/missing");
    });

    it("rejects invalid params on the server with INVALID_ARGUMENT naming the field", async () => {
      const raw = await connectRaw();
      // A hostile client: bypasses the caller-side validation with a hand-made frame.
      raw.send(FrameType.Request, { id: 1, method: "test/echo", params: { text: 42 } });
      const [reply] = await raw.frames(1);
      expect(reply?.type).toBe(FrameType.Response);
      expect(reply?.body).toMatchObject({ id: 1, error: { code: "INVALID_ARGUMENT" } });
      expect(JSON.stringify(reply?.body)).toContain("/text");
    });

    it("reports a handler's invalid result as INTERNAL", async () => {
      const { client } = await connect();
      const error = await client.call(TestMethods.badResult, {}).catch((e) => e);
      expect(error.code).toBe("INTERNAL");
      expect(error.message).toContain("invalid result");
    });

    it("times out a call past its deadline with TIMEOUT naming the method", async () => {
      const { client } = await connect();
      const started = performance.now();
      const error = await client
        .call(TestMethods.sleep, { ms: 2000 }, { timeoutMs: 50 })
        .catch((e) => e);
      expect(error.code).toBe("TIMEOUT");
      expect(error.message).toContain('timeout after 50 ms calling "test/sleep"');
      expect(performance.now() - started).toBeLessThan(1500);
      expect(client.pendingCalls).toBe(0);
      // The connection stays usable after a timeout.
      expect(await client.call(TestMethods.echo, { text: "still here" })).toEqual({
        text: "still here",
      });
    });

    it("times out each call at its own deadline, shorter deadlines first", async () => {
      const { client } = await connect();
      const order: string[] = [];
      const slow = client.call(TestMethods.sleep, { ms: 5000 }, { timeoutMs: 300 }).catch((e) => {
        order.push("300");
        return e;
      });
      const fast = client.call(TestMethods.sleep, { ms: 5000 }, { timeoutMs: 40 }).catch((e) => {
        order.push("40");
        return e;
      });
      const answered = client.call(TestMethods.echo, { text: "quick" }, { timeoutMs: 1000 });
      expect(await answered).toEqual({ text: "quick" });
      expect((await fast).code).toBe("TIMEOUT");
      expect(client.pendingCalls).toBe(1);
      expect((await slow).message).toContain("timeout after 300 ms");
      expect(order).toEqual(["40", "300"]);
    });

    it("rejects every pending call with the close cause kept", async () => {
      const { client } = await connect();
      const calls = [1, 2, 3].map(() =>
        client.call(TestMethods.sleep, { ms: 5000 }).catch((e) => e),
      );
      const cause = new RialtoError("INVALID_STATE", "shutting down");
      client.close(cause);
      const errors = await Promise.all(calls);
      for (const error of errors) {
        expect(error.code).toBe("INVALID_STATE");
        expect(error.message).toContain("shutting down");
        expect(error.cause).toBe(cause);
      }
      const late = await client.call(TestMethods.echo, { text: "x" }).catch((e) => e);
      expect(late.code).toBe("INVALID_STATE");
    });

    it("rejects pending calls with CONNECTION_LOST when the peer closes", async () => {
      const { client, server } = await connect();
      const call = client.call(TestMethods.sleep, { ms: 5000 }).catch((e) => e);
      server.close();
      const error = await call;
      expect(error.code).toBe("CONNECTION_LOST");
      expect(client.isClosed).toBe(true);
    });

    it("delivers events in order with validated payloads", async () => {
      const { client, server } = await connect();
      const received: number[] = [];
      const done = Promise.withResolvers<void>();
      client.on(TestMethods.tick, ({ n }) => {
        received.push(n);
        if (n === 99) done.resolve();
      });
      for (let n = 0; n < 100; n++) server.emit(TestMethods.tick, { n });
      await done.promise;
      expect(received).toEqual(Array.from({ length: 100 }, (_, n) => n));
    });

    it("drops an event with an invalid payload and reports it", async () => {
      const reported = Promise.withResolvers<RialtoError>();
      const { client, server } = await connect({ onError: (e) => reported.resolve(e) });
      const ticks: number[] = [];
      client.on(TestMethods.tick, ({ n }) => ticks.push(n));
      server.writeRaw(
        encodeJsonFrame(FrameType.Event, { event: "test/tick", payload: { n: "one" } }),
      );
      const error = await reported.promise;
      expect(error.code).toBe("PROTOCOL_ERROR");
      expect(error.message).toContain("invalid payload");
      server.emit(TestMethods.tick, { n: 2 });
      expect(await client.call(TestMethods.echo, { text: "sync" })).toEqual({ text: "sync" });
      expect(ticks).toEqual([2]);
    });

    it("carries a message near the frame limit both ways", async () => {
      const { client } = await connect();
      const text = "y".repeat(MAX_FRAME - 200);
      expect((await client.call(TestMethods.echo, { text })).text.length).toBe(text.length);
      expect((await client.call(TestMethods.blob, { bytes: MAX_FRAME - 100 })).text.length).toBe(
        MAX_FRAME - 100,
      );
    });

    it("refuses to send an oversize call and answers an oversize reply with PROTOCOL_ERROR", async () => {
      const { client } = await connect();
      const sendError = await client
        .call(TestMethods.echo, { text: "z".repeat(MAX_FRAME) })
        .catch((e) => e);
      expect(sendError.code).toBe("PROTOCOL_ERROR");
      expect(sendError.message).toContain("exceeds the maximum frame length");
      const replyError = await client
        .call(TestMethods.blob, { bytes: MAX_FRAME + 10 })
        .catch((e) => e);
      expect(replyError.code).toBe("PROTOCOL_ERROR");
      expect(await client.call(TestMethods.echo, { text: "ok" })).toEqual({ text: "ok" });
    });

    it("closes a connection that sends an oversize frame header, with a typed notice", async () => {
      const { client } = await connect();
      const raw = await connectRaw();
      const header = encodeJsonFrame(FrameType.Request, {}).slice(0, FRAME_HEADER_LENGTH);
      new DataView(header.buffer).setUint32(0, MAX_FRAME + 1);
      raw.transport.write(header);
      const [notice] = await raw.frames(1);
      expect(notice?.type).toBe(FrameType.Notice);
      expect(JSON.stringify(notice?.body)).toContain("exceeds the maximum");
      await raw.closed;
      // Other connections are unaffected.
      expect(await client.call(TestMethods.echo, { text: "fine" })).toEqual({ text: "fine" });
    });

    it("answers a garbage JSON request body with a PROTOCOL_ERROR notice and keeps serving", async () => {
      const raw = await connectRaw();
      const body = new TextEncoder().encode("{not json");
      const frame = encodeJsonFrame(FrameType.Request, {}).slice(0, FRAME_HEADER_LENGTH);
      new DataView(frame.buffer).setUint32(0, body.byteLength);
      raw.transport.write(Buffer.concat([frame, body]));
      raw.send(FrameType.Request, { id: 7, method: "test/echo", params: { text: "after" } });
      const [notice, reply] = await raw.frames(2);
      expect(notice?.body).toMatchObject({ error: { code: "PROTOCOL_ERROR" } });
      expect(reply?.body).toEqual({ id: 7, result: { text: "after" } });
    });

    it("refuses a body nested 60,000 deep before parsing it, quickly, and keeps serving", async () => {
      const raw = await connectRaw();
      const body = new TextEncoder().encode(`${"[".repeat(30_000)}${"]".repeat(30_000)}`);
      const frame = encodeJsonFrame(FrameType.Request, {}).slice(0, FRAME_HEADER_LENGTH);
      new DataView(frame.buffer).setUint32(0, body.byteLength);
      const started = performance.now();
      raw.transport.write(Buffer.concat([frame, body]));
      raw.send(FrameType.Request, { id: 8, method: "test/echo", params: { text: "after" } });
      const [notice, reply] = await raw.frames(2);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(notice?.body).toMatchObject({
        error: { code: "PROTOCOL_ERROR", message: expect.stringContaining("deeper than 64") },
      });
      expect(reply?.body).toEqual({ id: 8, result: { text: "after" } });
    });

    it("answers params too deep to describe with a bounded INVALID_ARGUMENT", async () => {
      const raw = await connectRaw();
      let params: unknown = 1;
      for (let i = 0; i < 60; i++) params = [params];
      raw.send(FrameType.Request, { id: 9, method: "test/echo", params });
      const [reply] = await raw.frames(1);
      const error = (reply?.body as { error?: { code: string; message: string } } | undefined)
        ?.error;
      expect(error?.code).toBe("INVALID_ARGUMENT");
      expect(error?.message.length).toBeLessThan(300);
    });

    it("fails the calls of a connection the peer refused with the reason it gave", async () => {
      const { client, server } = await connect();
      const call = client.call(TestMethods.sleep, { ms: 10_000 }, { timeoutMs: 5000 });
      const denied = new RialtoError("PERMISSION_DENIED", "uid 7 may not connect");
      server.writeRaw(encodeJsonFrame(FrameType.Notice, { error: denied.toWire() }));
      server.close();
      await expect(call).rejects.toMatchObject({
        code: "PERMISSION_DENIED",
        message: expect.stringContaining("uid 7 may not connect"),
      });
    });

    it("disconnects a peer that leaves a frame incomplete past the frame deadline", async () => {
      const pair = await makePair();
      const errors: RialtoError[] = [];
      const server = new RpcPeer<unknown>({
        name: "server",
        transport: pair.server,
        router: createTestRouter(),
        frameTimeoutMs: 100,
        onError: (error) => errors.push(error),
      });
      const closed = Promise.withResolvers<void>();
      pair.client.start({ data() {}, close: () => closed.resolve() });
      cleanups.push(() => {
        server.close();
        pair.cleanup();
      });
      const frame = encodeJsonFrame(FrameType.Request, { id: 1, method: "test/echo", params: {} });
      pair.client.write(frame.subarray(0, frame.byteLength - 1));
      const started = performance.now();
      await closed.promise;
      expect(performance.now() - started).toBeGreaterThanOrEqual(90);
      expect(errors.map((error) => error.message).join()).toContain("stayed incomplete for 100 ms");
    });

    it("holds pending calls across a lost transport and sends them again on attach", async () => {
      const first = await makePair();
      const server1 = new RpcPeer<unknown>({
        name: "server1",
        transport: first.server,
        router: createTestRouter(),
      });
      const lost = Promise.withResolvers<void>();
      const client = new RpcPeer({
        name: "client",
        transport: first.client,
        onDisconnect: "hold",
        onTransportClose: () => lost.resolve(),
      });
      cleanups.push(() => {
        client.close();
        server1.close();
        first.cleanup();
      });
      server1.close();
      await lost.promise;
      const call = client.call(TestMethods.echo, { text: "held" });
      expect(client.isConnected).toBe(false);
      const second = await makePair();
      const server2 = new RpcPeer<unknown>({
        name: "server2",
        transport: second.server,
        router: createTestRouter(),
      });
      cleanups.push(() => {
        server2.close();
        second.cleanup();
      });
      client.attach(second.client);
      expect(await call).toEqual({ text: "held" });
    });
  });
}

describeRpcSuite("the in-memory transport", memoryPair);
describeRpcSuite("a Unix socket", unixSocketPair);
