import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { sideChannelPath } from "@rialto/protocol";
import { FdChannel, ShmError } from "@rialto/shm";
import { fdCount, PingProbe, p99Bound, report, rssMiB, sampleRss } from "./support/hardening.ts";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

setDefaultTimeout(30_000);

/**
 * Fills the side channel's kernel backlog with connections that never send their token (a
 * non-blocking connect succeeds into the backlog until it is full: then EAGAIN). Returns what
 * it holds; `rounds` refills after the server drained it.
 */
async function floodSideChannel(path: string, rounds: number): Promise<FdChannel[]> {
  const held: FdChannel[] = [];
  for (let round = 0; round < rounds; round++) {
    for (;;) {
      try {
        held.push(FdChannel.connect(path));
      } catch (error) {
        if (!(error instanceof ShmError) || !/EAGAIN|EWOULDBLOCK/.test(error.errno ?? "")) {
          throw error;
        }
        break;
      }
    }
    await Bun.sleep(60);
  }
  return held;
}

/** True when the server closed this side-channel connection (a read says PEER_CLOSED). */
function closedByPeer(channel: FdChannel): boolean {
  try {
    channel.receive();
    return false;
  } catch (error) {
    return error instanceof ShmError && error.code === "PEER_CLOSED";
  }
}

describe("the fd side channel under a backlog flood (issue 12, item 4)", () => {
  it("keeps accepting clients while an attacker holds hundreds of silent side-channel connections, and frees them all", async () => {
    await using app = await TestApp.start();
    const pid = app.pid;
    const side = sideChannelPath(app.socketPath);
    // Given a well-behaved client (in its own process) pinging beside the attack.
    await using probe = await PingProbe.start(app.socketPath);
    await probe.baseline();
    const fdsBefore = fdCount(pid);
    const rssBefore = rssMiB(pid);
    const rss = sampleRss(pid);

    // When an attacker fills the backlog (129 is enough to lock out an unswept listener)
    // again and again, holding every connection open and never sending a token.
    const held = await floodSideChannel(side, 12);
    expect(held.length).toBeGreaterThan(129);

    // Then new clients still connect, register, map the AV memory and ping.
    for (let i = 0; i < 3; i++) {
      const late = await app.connect();
      await late.setApplicationState("Running");
      expect(late.sharedMemory).toBeDefined();
      expect(await late.ping(i)).toBe(i);
    }
    const figures = await probe.stop();
    const peak = rss.stop();

    // And the server holds only a capped number of the attacker's connections (the per-uid cap
    // is the connection cap, 32; the late clients hold 2 fds each): the attacker finds all but
    // those closed under it.
    expect(fdCount(pid) - fdsBefore).toBeLessThan(3 * 2 + 32 + 8);
    const cutOff = held.filter((channel) => closedByPeer(channel)).length;
    expect(cutOff).toBeGreaterThan(held.length - 32 - 8);

    // When the attacker closes its sockets, nothing of it is left in the server.
    for (const channel of held) channel.close();
    await eventually(() => fdCount(pid) <= fdsBefore + 3 * 2 + 2, "the server closed them");
    const extra = await app.connect();
    expect(await extra.ping(7)).toBe(7);

    report("fd side-channel flood", {
      heldByAttacker: held.length,
      cutOff,
      ping: figures,
      rssBeforeMiB: Math.round(rssBefore),
      rssPeakMiB: Math.round(peak),
    });
    expect(figures.p99).toBeLessThan(p99Bound(figures));
    expect(peak - rssBefore).toBeLessThan(16);
  });
});
