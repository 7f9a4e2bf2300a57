import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Type from "typebox";
import { RialtoError } from "../errors.ts";
import { FrameDecoder } from "../framing/frame-decoder.ts";
import { encodeJsonFrame } from "../framing/frame-encoder.ts";
import { FrameType } from "../framing/frame-header.ts";
import { DEFAULT_RESOURCES } from "../messages/common.ts";
import { SessionMethods } from "../messages/session.ts";
import { defineMethod } from "../rpc/descriptor.ts";
import { createMemoryTransportPair } from "../rpc/memory-transport.ts";
import { MethodRouter } from "../rpc/method-router.ts";
import { RpcPeer } from "../rpc/rpc-peer.ts";
import { connectUnix, listenUnix, type UnixListener } from "../rpc/socket-transport.ts";
import type { Transport } from "../rpc/transport.ts";
import { TestMethods } from "../test-support/test-methods.ts";
import { assertCompatibleVersion, PROTOCOL_VERSION } from "../version.ts";
import type { RegisteredClient } from "./registered-client.ts";
import { RetryClient, type RetryClientOptions } from "./retry-client.ts";
import { type ReleaseReason, RetryServer, type RetryServerOptions } from "./retry-server.ts";

/** A call with a side effect: counts how often each key ran on the server. */
const increment = defineMethod(
  "test/increment",
  Type.Object({ key: Type.String(), delayMs: Type.Optional(Type.Integer({ minimum: 0 })) }),
  Type.Object({ runs: Type.Integer() }),
);
const { emitTicks, tick } = TestMethods;

interface TestSession {
  runs: Map<string, number>;
}

/** The test server's methods; `greet` makes a first registration emit tick 0. */
function createRouter(greet = false): MethodRouter<RegisteredClient<TestSession>> {
  return new MethodRouter<RegisteredClient<TestSession>>()
    .handle(SessionMethods.register, (params, client) => {
      assertCompatibleVersion(params.protocolVersion);
      if (greet && params.clientId === undefined) client.emit(tick, { n: 0 });
      return {
        clientId: client.id,
        applicationState: "Running" as const,
        protocolVersion: PROTOCOL_VERSION,
        resources: { ...DEFAULT_RESOURCES },
      };
    })
    .handle(SessionMethods.ping, ({ value }) => ({ value }))
    .handle(TestMethods.echo, ({ text }) => ({ text }))
    .handle(TestMethods.sleep, async ({ ms }) => {
      await Bun.sleep(ms);
      return { ms };
    })
    .handle(TestMethods.fail, ({ code, message }) => {
      throw new RialtoError(code as "INVALID_STATE", message);
    })
    .handle(increment, async ({ key, delayMs }, client) => {
      const runs = (client.session.runs.get(key) ?? 0) + 1;
      client.session.runs.set(key, runs);
      if (delayMs !== undefined) await Bun.sleep(delayMs);
      return { runs };
    })
    .handle(emitTicks, ({ count }, client) => {
      for (let n = 1; n <= count; n++) client.emit(tick, { n });
      return {};
    });
}

/** Connects transports to whichever server is current; the server can go down and restart. */
interface Network {
  accept(transport: Transport): void;
  connect(): Promise<Transport>;
  close(): void;
}

type NetworkFactory = (serve: (transport: Transport) => void) => Promise<Network>;

const memoryNetwork: NetworkFactory = async (serve) => ({
  accept: serve,
  async connect() {
    const [client, server] = createMemoryTransportPair();
    serve(server);
    return client;
  },
  close() {},
});

const unixNetwork: NetworkFactory = async (serve) => {
  const dir = mkdtempSync(join(tmpdir(), "rialto-retry-"));
  const listener: UnixListener = await listenUnix(join(dir, "retry.sock"), serve);
  return {
    accept: serve,
    connect: () => connectUnix(listener.path),
    close() {
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

async function eventually(condition: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(2);
  }
}

function describeRetrySuite(name: string, makeNetwork: NetworkFactory) {
  describe(`retry-RPC over ${name}`, () => {
    const cleanups: (() => void)[] = [];
    afterEach(() => {
      for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    });

    async function setUp(
      serverOptions: Partial<RetryServerOptions<TestSession>> = {},
      greet = false,
    ) {
      const released: { clientId: number; reason: ReleaseReason }[] = [];
      const makeServer = () =>
        new RetryServer<TestSession>({
          router: createRouter(greet),
          createSession: () => ({ runs: new Map() }),
          releaseSession: (client, reason) => {
            released.push({ clientId: client.id, reason });
          },
          ...serverOptions,
        });
      const world = { server: makeServer(), down: false };
      const network = await makeNetwork((transport) => world.server.accept(transport));
      const clients: RetryClient[] = [];
      cleanups.push(() => {
        for (const client of clients) client.close();
        world.server.close();
        network.close();
      });
      const connect = async (options: Partial<RetryClientOptions> = {}) => {
        const client = await RetryClient.connect({
          connect: () =>
            world.down
              ? Promise.reject(new RialtoError("CONNECTION_LOST", "server is down"))
              : network.connect(),
          registration: () => ({ protocolVersion: PROTOCOL_VERSION }),
          reconnect: { initialDelayMs: 5, maxRetries: 6 },
          ...options,
        });
        clients.push(client);
        return client;
      };
      const restart = () => {
        world.server.close();
        world.server = makeServer();
      };
      return { world, connect, released, restart };
    }

    /** A bare RpcPeer on the server: no retry-RPC client behaviour at all. */
    function rawPeer(server: RetryServer<TestSession>): RpcPeer {
      const [client, serverEnd] = createMemoryTransportPair();
      server.accept(serverEnd);
      const peer = new RpcPeer({ transport: client });
      cleanups.push(() => peer.close());
      return peer;
    }

    it("gives every client its own server-assigned id and answers its calls", async () => {
      const { connect } = await setUp();
      const a = await connect();
      const b = await connect();
      expect(a.clientId).toBeGreaterThan(0);
      expect(b.clientId).toBeGreaterThan(0);
      expect(a.clientId).not.toBe(b.clientId);
      expect(await a.call(TestMethods.echo, { text: "hi" })).toEqual({ text: "hi" });
    });

    it("settles every call exactly once with its own answer while connections drop", async () => {
      const { connect, world } = await setUp();
      const client = await connect();
      const calls = Array.from({ length: 200 }, (_, n) => {
        if (n % 10 === 9) client.dropConnection();
        return client.call(increment, { key: `k${n}` }, { timeoutMs: 10_000 });
      });
      const results = await Promise.all(calls);
      expect(results.every((result) => result.runs === 1)).toBe(true);
      const session = world.server.clients.get(client.clientId ?? 0)?.session;
      expect(session?.runs.size).toBe(200);
      expect([...(session?.runs.values() ?? [])].every((runs) => runs === 1)).toBe(true);
      expect(client.stats().reconnects).toBeGreaterThan(0);
    });

    it("joins a retransmit of a call still running on the old connection instead of running it again", async () => {
      const { connect, world } = await setUp();
      const client = await connect();
      const id = client.clientId ?? 0;
      const slow = client.call(increment, { key: "slow", delayMs: 150 });
      await eventually(
        () => world.server.clients.get(id)?.session.runs.get("slow") === 1,
        "it runs",
      );
      client.dropConnection();
      expect(await slow).toEqual({ runs: 1 });
      expect(world.server.clients.get(id)?.session.runs.get("slow")).toBe(1);
      expect(world.server.clients.get(id)?.stats().retried).toBe(1);
    });

    it("answers a retransmitted failing call with the cached error, not a second run", async () => {
      const { connect, world } = await setUp();
      const client = await connect();
      const failing = client.call(TestMethods.fail, { code: "INVALID_STATE", message: "nope" });
      client.dropConnection();
      await expect(failing).rejects.toMatchObject({ code: "INVALID_STATE", message: "nope" });
      const stats = world.server.clients.get(client.clientId ?? 0)?.stats();
      expect(stats?.methods["test/fail"]?.count).toBe(1);
    });

    it("trims the reply cache with the acknowledgement carried by later calls", async () => {
      const { connect, world } = await setUp();
      const client = await connect();
      for (let n = 0; n < 20; n++) await client.call(TestMethods.echo, { text: `${n}` });
      const stats = world.server.clients.get(client.clientId ?? 0)?.stats();
      // Only the last reply is unacknowledged: nothing has carried its ack yet.
      expect(stats?.cachedReplies).toBe(1);
      expect(stats?.trimmedByAck).toBe(19);
    });

    it("expires unacknowledged replies after the TTL", async () => {
      const { connect, world } = await setUp({ replyTtlMs: 30 });
      const client = await connect();
      await client.call(TestMethods.echo, { text: "last" });
      const registered = world.server.clients.get(client.clientId ?? 0);
      await eventually(() => registered?.stats().cachedReplies === 0, "the reply expired");
      expect(registered?.stats().trimmedByTtl).toBe(1);
    });

    it("answers a registration with an unknown client id with UNKNOWN_CLIENT", async () => {
      const { world } = await setUp();
      const peer = rawPeer(world.server);
      await expect(
        peer.call(SessionMethods.register, { protocolVersion: PROTOCOL_VERSION, clientId: 4242 }),
      ).rejects.toMatchObject({ code: "UNKNOWN_CLIENT" });
    });

    it("resumes only with the secret of the registration, compared as a whole", async () => {
      const { world, connect } = await setUp();
      const client = await connect();
      const id = client.clientId ?? 0;
      const secret = world.server.clients.get(id)?.resumeToken ?? "";
      expect(secret).toMatch(/^[0-9a-f]{32}$/);
      const register = (peer: RpcPeer, resumeToken?: string) =>
        peer.call(SessionMethods.register, {
          protocolVersion: PROTOCOL_VERSION,
          clientId: id,
          ...(resumeToken === undefined ? {} : { resumeToken }),
        });
      // The id alone, or with a secret one digit off, takes nothing over.
      const thief = rawPeer(world.server);
      await expect(register(thief)).rejects.toMatchObject({ code: "UNKNOWN_CLIENT" });
      const wrong = `${secret.slice(0, -1)}${secret.endsWith("0") ? "1" : "0"}`;
      await expect(register(thief, wrong)).rejects.toMatchObject({ code: "UNKNOWN_CLIENT" });
      expect(world.server.clients.get(id)?.connected).toBe(true);
      // The client itself resumes across a dropped connection (it got the secret when it registered).
      client.dropConnection();
      expect(await client.call(increment, { key: "after" }, { timeoutMs: 5000 })).toEqual({
        runs: 1,
      });
      expect(client.clientId).toBe(id);
      expect(client.stats().reregistrations).toBe(0);
    });

    it("closes a connection after three failed resumes", async () => {
      const { world } = await setUp();
      const peer = rawPeer(world.server);
      const guess = (clientId: number) =>
        peer.call(SessionMethods.register, {
          protocolVersion: PROTOCOL_VERSION,
          clientId,
          resumeToken: "00".repeat(16),
        });
      for (const clientId of [1, 2]) {
        await expect(guess(clientId)).rejects.toMatchObject({ code: "UNKNOWN_CLIENT" });
      }
      await expect(guess(3)).rejects.toMatchObject({ code: "UNKNOWN_CLIENT" });
      await eventually(() => !peer.isConnected, "the connection is closed");
      expect(world.server.stats().cutOff).toBe(1);
    });

    it("closes a connection that does not register within the deadline", async () => {
      const { world } = await setUp({ limits: { registrationTimeoutMs: 50 } });
      const peer = rawPeer(world.server);
      expect(await peer.call(SessionMethods.ping, { value: 1 })).toEqual({ value: 1 });
      await eventually(() => !peer.isConnected, "the unregistered connection is closed");
      expect(world.server.connectionCount).toBe(0);
    });

    it("makes room at the connection cap by closing the oldest unregistered connection", async () => {
      const { world, connect } = await setUp({ limits: { maxConnections: 3 } });
      const idle = [rawPeer(world.server), rawPeer(world.server), rawPeer(world.server)];
      const client = await connect();
      expect(await client.call(TestMethods.echo, { text: "in" })).toEqual({ text: "in" });
      expect(idle.map((peer) => peer.isConnected)).toEqual([false, true, true]);
      expect(world.server.connectionCount).toBe(3);
    });

    it("stops counting connections it closes itself (superseded, released), so they never fill the cap", async () => {
      const { world } = await setUp();
      const first = rawPeer(world.server);
      const { clientId, resumeToken } = await first.call(SessionMethods.register, {
        protocolVersion: PROTOCOL_VERSION,
      });
      // A second connection resumes the client while the first is still open: superseded.
      for (let round = 0; round < 3; round++) {
        const next = rawPeer(world.server);
        await next.call(SessionMethods.register, {
          protocolVersion: PROTOCOL_VERSION,
          clientId,
          resumeToken,
        });
      }
      expect(first.isConnected).toBe(false);
      expect(world.server.connectionCount).toBe(1);
      world.server.releaseAll();
      expect(world.server.connectionCount).toBe(0);
    });

    it("refuses a new client once every client slot holds a connected client", async () => {
      const { connect } = await setUp({ limits: { maxClients: 2 } });
      await connect();
      await connect();
      await expect(connect()).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    });

    it("answers session/ping before registration (health checks) and nothing else", async () => {
      const { world } = await setUp();
      const peer = rawPeer(world.server);
      expect(await peer.call(SessionMethods.ping, { value: -3 })).toEqual({ value: -3 });
      expect(world.server.clients.size).toBe(0);
    });

    it("delivers the first event to a listener subscribed before connecting", async () => {
      const { connect } = await setUp({}, true);
      const seen: number[] = [];
      await connect({ subscribe: (client) => client.on(tick, ({ n }) => seen.push(n)) });
      await eventually(() => seen.length === 1, "the greeting tick");
      expect(seen).toEqual([0]);
    });

    it("sends the register reply before the client's first event", async () => {
      const { world } = await setUp({}, true);
      const [client, server] = createMemoryTransportPair();
      world.server.accept(server);
      const frames: FrameType[] = [];
      const decoder = new FrameDecoder();
      client.start({
        data: (bytes) => decoder.push(bytes, (frame) => frames.push(frame.type)),
        close() {},
      });
      client.write(
        encodeJsonFrame(FrameType.Request, {
          id: 1,
          method: "session/register",
          params: { protocolVersion: PROTOCOL_VERSION },
        }),
      );
      await eventually(() => frames.length === 2, "the reply and the event");
      expect(frames).toEqual([FrameType.Response, FrameType.Event]);
      client.close();
    });

    it("releases every client on releaseAll and keeps serving: the clients register afresh", async () => {
      const { connect, world, released } = await setUp();
      const registrations: number[] = [];
      const client = await connect({
        onRegistered: (result) => registrations.push(result.clientId),
      });
      world.server.releaseAll("closed");
      expect(released).toEqual([{ clientId: registrations[0] ?? 0, reason: "closed" }]);
      await eventually(() => registrations.length === 2, "a fresh registration");
      expect(registrations[1]).not.toBe(registrations[0]);
      expect(registrations[1]).toBe(client.clientId ?? 0);
      expect(await client.call(TestMethods.echo, { text: "again" })).toEqual({ text: "again" });
    });

    it("refuses calls made before session/register with INVALID_STATE", async () => {
      const { world } = await setUp();
      const peer = rawPeer(world.server);
      await expect(peer.call(TestMethods.echo, { text: "early" })).rejects.toMatchObject({
        code: "INVALID_STATE",
      });
    });

    it("refuses an incompatible protocol major and forgets the refused client", async () => {
      const { connect, world, released } = await setUp();
      await expect(
        connect({ registration: () => ({ protocolVersion: "2.0.0" }) }),
      ).rejects.toMatchObject({ code: "INCOMPATIBLE_VERSION" });
      expect(world.server.clients.size).toBe(0);
      expect(released).toHaveLength(1);
      expect(released[0]?.reason).toBe("refused");
    });

    it("refuses a request id the client has already acknowledged", async () => {
      const { world } = await setUp();
      const peer = rawPeer(world.server);
      const { clientId } = await peer.call(SessionMethods.register, {
        protocolVersion: PROTOCOL_VERSION,
      });
      await peer.call(increment, { key: "once" });
      await peer.call(SessionMethods.ping, { value: 1 });
      // Request 3 acknowledged request 2; replay request 2 by hand.
      peer.writeRaw(
        encodeJsonFrame(FrameType.Request, {
          id: 2,
          method: "test/increment",
          params: { key: "once" },
          ack: 3,
        }),
      );
      const registered = world.server.clients.get(clientId);
      await eventually(() => registered?.stats().refused === 1, "the refusal");
      expect(registered?.session.runs.get("once")).toBe(1);
    });

    it("registers afresh when the server forgot the client, failing the held calls", async () => {
      const { connect, world, restart } = await setUp();
      const registrations: boolean[] = [];
      const client = await connect({ onRegistered: (_, fresh) => registrations.push(fresh) });
      await client.call(increment, { key: "before" });
      world.down = true;
      client.dropConnection();
      const held = client.call(increment, { key: "held" }, { timeoutMs: 10_000 });
      restart();
      world.down = false;
      await expect(held).rejects.toMatchObject({ code: "CONNECTION_LOST" });
      expect(await client.call(increment, { key: "after" })).toEqual({ runs: 1 });
      expect(registrations).toEqual([true, true]);
      expect(client.stats().reregistrations).toBe(1);
      expect(world.server.clients.get(client.clientId ?? 0)?.session.runs.has("held")).toBe(false);
    });

    it("delivers sequenced events once each and in order across dropped connections", async () => {
      const { connect } = await setUp();
      const client = await connect();
      const seen: number[] = [];
      client.on(tick, ({ n }) => seen.push(n));
      for (let batch = 0; batch < 20; batch++) {
        const emitted = client.call(emitTicks, { count: 100 }, { timeoutMs: 10_000 });
        if (batch % 3 === 1) client.dropConnection();
        await emitted;
      }
      await eventually(() => seen.length >= 2000, "2000 events arrived");
      // Ticks restart at 1 per batch: check the whole stream is exactly the batches in order.
      const expected = Array.from({ length: 20 }, () =>
        Array.from({ length: 100 }, (_, n) => n + 1),
      );
      expect(seen).toEqual(expected.flat());
    });

    it("sends again after a reconnect the events emitted while the client was away", async () => {
      const { connect, world } = await setUp();
      const client = await connect();
      const seen: number[] = [];
      client.on(tick, ({ n }) => seen.push(n));
      world.down = true;
      client.dropConnection();
      const registered = world.server.clients.get(client.clientId ?? 0);
      await eventually(() => registered?.connected === false, "the server saw the drop");
      for (let n = 1; n <= 5; n++) registered?.emit(tick, { n });
      world.down = false;
      await eventually(() => seen.length === 5, "the replay");
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      await eventually(
        () => registered?.stats().unackedEvents === 0,
        "the events were acknowledged",
      );
    });

    it("keeps a client's state across a reconnect within the grace period", async () => {
      const { connect, world, released } = await setUp({ graceMs: 5000 });
      const client = await connect();
      await client.call(increment, { key: "kept" });
      client.dropConnection();
      expect(await client.call(increment, { key: "kept" })).toEqual({ runs: 2 });
      expect(released).toEqual([]);
      expect(world.server.clients.size).toBe(1);
    });

    it("releases a disconnected client's state when the grace period ends", async () => {
      const { connect, world, released } = await setUp({ graceMs: 30 });
      const client = await connect();
      const id = client.clientId ?? 0;
      client.close();
      await eventually(() => released.length === 1, "the release");
      expect(released).toEqual([{ clientId: id, reason: "grace" }]);
      expect(world.server.clients.size).toBe(0);
    });

    it("gives up after the bounded retries and fails every pending call with CONNECTION_LOST at once", async () => {
      const { connect, world } = await setUp();
      const lost = Promise.withResolvers<RialtoError>();
      const failures: number[] = [];
      const client = await connect({
        reconnect: { initialDelayMs: 5, maxRetries: 3 },
        onReconnectFailed: (_, attempt) => failures.push(attempt),
        onLost: (error) => lost.resolve(error),
      });
      world.down = true;
      client.dropConnection();
      const started = performance.now();
      const pending = client.call(TestMethods.echo, { text: "never" }, { timeoutMs: 60_000 });
      await expect(pending).rejects.toMatchObject({ code: "CONNECTION_LOST" });
      expect(performance.now() - started).toBeLessThan(5000);
      expect((await lost.promise).message).toContain("gave up reconnecting after 4 attempts");
      expect(failures).toEqual([1, 2, 3, 4]);
      expect(client.state).toBe("closed");
      await expect(client.call(TestMethods.echo, { text: "late" })).rejects.toMatchObject({
        code: "CONNECTION_LOST",
      });
    });

    it("gives up at once when a reconnect is refused for good (INCOMPATIBLE_VERSION)", async () => {
      const { connect } = await setUp();
      const lost = Promise.withResolvers<RialtoError>();
      const client = await connect({
        registration: (fresh) => ({ protocolVersion: fresh ? PROTOCOL_VERSION : "2.0.0" }),
        onLost: (error) => lost.resolve(error),
      });
      client.dropConnection();
      const error = await lost.promise;
      expect(error.code).toBe("CONNECTION_LOST");
      expect(error.message).toContain("gave up reconnecting after 1 attempt:");
      expect((error.cause as RialtoError).code).toBe("INCOMPATIBLE_VERSION");
    });

    it("fails a call past its deadline with TIMEOUT naming the method", async () => {
      const { connect } = await setUp();
      const client = await connect();
      await expect(client.call(TestMethods.sleep, { ms: 300 }, { timeoutMs: 30 })).rejects.toThrow(
        /timeout after 30 ms calling "test\/sleep"/,
      );
    });

    it("keeps serving other clients while one reconnects with a call in flight", async () => {
      const { connect } = await setUp();
      const reconnecting = await connect();
      const other = await connect();
      let slowSettled = false;
      const slow = reconnecting.call(TestMethods.sleep, { ms: 500 });
      slow.finally(() => {
        slowSettled = true;
      });
      reconnecting.dropConnection();
      for (let n = 0; n < 20; n++) await other.call(TestMethods.echo, { text: `${n}` });
      expect(slowSettled).toBe(false);
      expect(await slow).toEqual({ ms: 500 });
    });

    it("counts calls, retransmits, reconnects and per-method latency", async () => {
      const { connect, world } = await setUp();
      const client = await connect();
      const slow = client.call(TestMethods.sleep, { ms: 20 });
      client.dropConnection();
      await slow;
      await client.call(TestMethods.echo, { text: "x" });
      const stats = client.stats();
      expect(stats).toMatchObject({ calls: 2, retransmits: 1, reconnects: 1, pending: 0 });
      // The server counts the same reconnect (a known client id registered again).
      expect(world.server.stats()).toMatchObject({ clients: 1, reconnects: 1 });
      expect(stats.methods["test/sleep"]?.count).toBe(1);
      expect(stats.methods["test/sleep"]?.meanMs).toBeGreaterThanOrEqual(15);
      expect(stats.methods["test/echo"]).toMatchObject({ count: 1, errors: 0 });
    });
  });
}

describeRetrySuite("the in-memory transport", memoryNetwork);
describeRetrySuite("a Unix socket", unixNetwork);
