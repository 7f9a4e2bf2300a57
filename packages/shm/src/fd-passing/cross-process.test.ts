import { describe, expect, it } from "bun:test";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { SharedMemory } from "../memory/shared-memory.ts";
import { ShmPool } from "../pool/shm-pool.ts";
import { within } from "../test-support/deadline.ts";
import { AS_NOBODY, canSwitchUser, NOBODY } from "../test-support/os-probes.ts";
import { stageForOtherUser } from "../test-support/other-user.ts";
import { PeerProcess } from "../test-support/peer-process.ts";
import { tempDirPerTest } from "../test-support/temp-dir.ts";
import { FdChannel } from "./fd-channel.ts";
import { SideChannelAcceptor } from "./side-channel-handshake.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** A child with one end of an FdChannel pair as its fd 3; the parent keeps the other. */
async function givenChildWithChannel(): Promise<{ peer: PeerProcess; channel: FdChannel }> {
  const [channel, childEnd] = FdChannel.pair();
  try {
    const { peer } = await PeerProcess.spawn({ channelFd: childEnd.fd });
    return { peer, channel };
  } catch (error) {
    channel.close();
    throw error;
  } finally {
    childEnd.close();
  }
}

describe("fd passing between processes", () => {
  it("a child maps the memfd its parent passes and reads what the parent wrote", async () => {
    const { peer, channel } = await givenChildWithChannel();
    await using _peer = peer;
    using _channel = channel;
    using memory = SharedMemory.create(65536, { name: "parent-writes" });
    memory.bytes.set(encode("written by the parent"), 1000);

    // Step 1: fds first on the side channel, then the notification (the IPC command).
    channel.sendFds([memory.fd]);
    expect(await peer.request({ op: "map" })).toEqual({ size: 65536 });

    // Step 2: the child reads the bytes through its own mapping.
    expect(await peer.request({ op: "read", offset: 1000, length: 21 })).toEqual({
      text: "written by the parent",
    });
  });

  it("the parent maps a memfd the child created and sees the child's later writes", async () => {
    const { peer, channel } = await givenChildWithChannel();
    await using _peer = peer;
    using _channel = channel;

    // Step 1: the child creates, fills and sends a memfd; its reply is the notification.
    expect(
      await peer.request({ op: "create-and-send", size: 8192, text: "made by the child" }),
    ).toEqual({ sent: true });
    using memory = SharedMemory.fromFd(channel.receive()?.fds[0] ?? -1);
    expect(new TextDecoder().decode(memory.bytes.subarray(0, 17))).toBe("made by the child");

    // Step 2: later writes by the child show up in the parent's mapping.
    channel.sendFds([memory.fd]);
    await peer.request({ op: "map" });
    await peer.request({ op: "write", offset: 4000, text: "later" });
    expect(new TextDecoder().decode(memory.bytes.subarray(4000, 4005))).toBe("later");
  });

  it("a peer cannot shrink a handed-out sealed memfd, and the owner reads on (no SIGBUS)", async () => {
    const { peer, channel } = await givenChildWithChannel();
    await using _peer = peer;
    using _channel = channel;
    using memory = SharedMemory.create(1 << 20, { name: "sealed-handout" });
    memory.bytes.fill(0x5a);

    channel.sendFds([memory.fd]);
    await peer.request({ op: "map" });
    expect(await peer.request({ op: "truncate", size: 0 })).toEqual({
      truncated: false,
      errno: "EPERM",
    });
    expect(await peer.request({ op: "truncate", size: 2 << 20 })).toEqual({
      truncated: false,
      errno: "EPERM",
    });

    // The owner touches every page, including the last one, after the attempts.
    expect(memory.bytes.every((byte) => byte === 0x5a)).toBe(true);
    expect(await peer.request({ op: "read", offset: (1 << 20) - 1, length: 1 })).toEqual({
      text: "Z",
    });
  });

  it("a server process maps a client's pool and answers in the same block", async () => {
    const { peer, channel } = await givenChildWithChannel();
    await using _peer = peer;
    using _channel = channel;
    using pool = ShmPool.create({ size: 8192, heartbeatIntervalMs: 0 });
    const block = pool.alloc(256);
    if (block === undefined) throw new Error("alloc failed");
    block.set(encode("request\0"));

    channel.sendFds([pool.fd]);
    const reply = await peer.request({
      op: "pool-answer",
      offset: pool.offsetOf(block),
      length: 256,
      text: "response",
    });
    expect(reply).toEqual({ request: "request" });
    expect(new TextDecoder().decode(block.subarray(0, 8))).toBe("response");
    expect(block[8]).toBe(0);
    pool.free(pool.offsetOf(block));
  });
});

describe("fd passing to an unrelated process of another user", () => {
  // Searchable by others: the peer may run as another user.
  const temp = tempDirPerTest("shm-xuser-", { mode: 0o755 });

  it(`hands a sealed memfd over the side-channel handshake to a child running as ${canSwitchUser ? "nobody" : "the same user (not root)"}`, async () => {
    const sidePath = join(temp.dir, "app.sock.fds");
    const dataPath = join(temp.dir, "app.sock");
    using acceptor = SideChannelAcceptor.listen(sidePath, { mode: 0o666 });
    using memory = SharedMemory.create(65536, { name: "cross-user" });
    memory.bytes.set(encode("for another user"));
    memory.bytes[65535] = 77;
    let claimedUid: number | undefined;
    const result = Promise.withResolvers<Record<string, unknown>>();

    // Step 1: the server's data socket; the side channel is claimed when the token arrives.
    const server = Bun.listen({
      unix: dataPath,
      socket: {
        data(socket, chunk) {
          for (const line of chunk.toString().split("\n").filter(Boolean)) {
            const message = JSON.parse(line) as { type: string; token?: string };
            if (message.type === "hello") {
              const channel = acceptor.claim(Uint8Array.fromHex(message.token ?? ""));
              if (channel === undefined) {
                return result.reject(new Error("no side channel for the token"));
              }
              claimedUid = channel.peerCredentials().uid;
              // Step 3: fds on the side channel first, then the notification on the data socket.
              channel.sendFds([memory.fd], encode("av-buffer"));
              channel.close();
              socket.write(`${JSON.stringify({ type: "fd-sent" })}\n`);
            } else if (message.type === "result") {
              result.resolve(message);
            }
          }
        },
      },
    });
    chmodSync(dataPath, 0o666);
    try {
      // Step 2: an unrelated client connects the side channel, then presents its token.
      const entry = new URL("../test-support/unrelated-peer.ts", import.meta.url).pathname;
      const { bun, script } = await stageForOtherUser(entry, temp.dir);
      const command = [bun, script, sidePath, dataPath];
      const child = Bun.spawn({
        cmd: canSwitchUser ? [...AS_NOBODY, ...command] : command,
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, HOME: "/tmp" },
      });
      try {
        // Step 4: the client mapped the memfd, read it, and could not shrink it.
        const exitedEarly = child.exited.then((code) =>
          Promise.reject(new Error(`client exited with ${code}`)),
        );
        const report = await within(
          Promise.race([result.promise, exitedEarly]),
          "the client's report",
          10_000,
        );
        const expectedUid = canSwitchUser ? NOBODY : process.getuid?.();
        expect(report).toEqual({
          type: "result",
          uid: expectedUid,
          label: "av-buffer",
          text: "for another user",
          lastByte: 77,
          truncate: "EPERM",
        });
        expect(claimedUid).toBe(expectedUid);
        expect(await within(child.exited, "the client to exit", 5000)).toBe(0);
      } finally {
        child.kill();
        await child.exited;
      }
    } finally {
      server.stop(true);
    }
  }, 20_000);
});
