import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { ShmError } from "../errors.ts";
import { SharedMemory } from "../memory/shared-memory.ts";
import { openFdCount } from "../test-support/os-probes.ts";
import { tempDirPerTest } from "../test-support/temp-dir.ts";
import { FdChannel } from "./fd-channel.ts";
import { connectSideChannel, SideChannelAcceptor } from "./side-channel-handshake.ts";

const temp = tempDirPerTest("shm-handshake-");
const sidePath = () => join(temp.dir, "side.sock");

describe("side-channel handshake", () => {
  it("lets the server claim the client's channel by the token it presents", () => {
    using acceptor = SideChannelAcceptor.listen(sidePath());
    const { channel: client, token } = connectSideChannel(sidePath());
    using _client = client;
    using server = acceptor.claim(token);
    if (server === undefined) throw new Error("the channel was not claimed");
    using memory = SharedMemory.create(4096);
    memory.bytes.set([42]);
    server.sendFds([memory.fd]);
    using mapped = SharedMemory.fromFd(client.receive()?.fds[0] ?? -1);
    expect(mapped.bytes[0]).toBe(42);
    expect(acceptor.pendingCount).toBe(0);
  });

  it("matches several clients whatever order their tokens are presented in", () => {
    using acceptor = SideChannelAcceptor.listen(sidePath());
    const clients = [
      connectSideChannel(sidePath()),
      connectSideChannel(sidePath()),
      connectSideChannel(sidePath()),
    ];
    for (const { channel, token } of clients.reverse()) {
      const server = acceptor.claim(token);
      server?.sendFds([], token);
      expect(channel.receive()?.data).toEqual(token);
      server?.close();
      channel.close();
    }
    expect(acceptor.pendingCount).toBe(0);
  });

  it("returns undefined for a token nobody sent and keeps the other connections", () => {
    using acceptor = SideChannelAcceptor.listen(sidePath());
    const { channel, token } = connectSideChannel(sidePath());
    using _channel = channel;
    expect(acceptor.claim(new Uint8Array(16))).toBeUndefined();
    expect(acceptor.pendingCount).toBe(1);
    acceptor.claim(token)?.close();
  });

  it("drops connections that send a malformed first record or hang up", () => {
    using acceptor = SideChannelAcceptor.listen(sidePath());
    using memory = SharedMemory.create(4096);
    const before = openFdCount();
    const withFd = FdChannel.connect(sidePath());
    withFd.sendFds([memory.fd], new Uint8Array(16));
    const shortToken = FdChannel.connect(sidePath());
    shortToken.sendFds([], new Uint8Array(3));
    FdChannel.connect(sidePath()).close();
    expect(acceptor.claim(new Uint8Array(16))).toBeUndefined();
    expect(acceptor.pendingCount).toBe(0);
    withFd.close();
    shortToken.close();
    expect(openFdCount()).toBe(before);
  });

  it("closes unclaimed connections after the timeout and beyond the limit", () => {
    let now = 0;
    using acceptor = SideChannelAcceptor.listen(sidePath(), {
      pendingTimeoutMs: 1000,
      maxPending: 2,
      now: () => now,
    });
    const clients = [
      connectSideChannel(sidePath()),
      connectSideChannel(sidePath()),
      connectSideChannel(sidePath()),
    ];
    expect(acceptor.claim(new Uint8Array(16))).toBeUndefined();
    expect(acceptor.pendingCount).toBe(2);
    expect(() => clients[0]?.channel.sendFds([])).toThrow(ShmError);
    now = 1000;
    expect(acceptor.claim(clients[2]?.token ?? new Uint8Array(16))).toBeUndefined();
    expect(acceptor.pendingCount).toBe(0);
    for (const { channel } of clients) channel.close();
  });

  it("rejects a token of the wrong size", () => {
    using acceptor = SideChannelAcceptor.listen(sidePath());
    expect(() => acceptor.claim(new Uint8Array(4))).toThrow(/token is 4 bytes; expected 16/);
  });
});

describe("side-channel acceptor under a backlog flood", () => {
  it("sweeps a full backlog of silent connections so that a client still gets through", () => {
    using acceptor = SideChannelAcceptor.listen(sidePath(), { backlog: 8, maxPendingPerUid: 4 });
    const silent: FdChannel[] = [];
    // Fill the kernel's backlog with connections that never send their token.
    for (;;) {
      try {
        silent.push(FdChannel.connect(sidePath()));
      } catch (error) {
        expect((error as ShmError).errno).toBe("EWOULDBLOCK");
        break;
      }
    }
    expect(() => connectSideChannel(sidePath())).toThrow(/EWOULDBLOCK/);
    acceptor.sweep();
    // Only the per-uid cap of them is kept; the backlog is empty again.
    expect(acceptor.pendingCount).toBe(4);
    const { channel, token } = connectSideChannel(sidePath());
    using _channel = channel;
    using claimed = acceptor.claim(token);
    expect(claimed).toBeDefined();
    // At the cap, a silent one was closed rather than the client's, which had sent its token.
    expect(acceptor.pendingCount).toBe(3);
    for (const connection of silent) connection.close();
  });

  it("drops connections whose peer hung up before sending a token", () => {
    using acceptor = SideChannelAcceptor.listen(sidePath());
    const before = openFdCount();
    for (let i = 0; i < 10; i++) FdChannel.connect(sidePath()).close();
    acceptor.sweep();
    expect(acceptor.pendingCount).toBe(0);
    expect(acceptor.droppedCount).toBe(10);
    expect(openFdCount()).toBe(before);
  });
});
