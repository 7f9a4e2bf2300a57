import { describe, expect, it } from "bun:test";
import { RialtoError } from "../errors.ts";
import { FrameDecoder } from "../framing/frame-decoder.ts";
import { createTestRouter, TestMethods } from "../test-support/test-methods.ts";
import { createMemoryTransportPair } from "./memory-transport.ts";
import { RpcPeer } from "./rpc-peer.ts";
import type { Transport } from "./transport.ts";

/** A raw server end that records every request envelope it receives. */
function recordRequests(transport: Transport): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = [];
  const decoder = new FrameDecoder();
  transport.start({
    data: (bytes) =>
      decoder.push(bytes, (frame) => seen.push(JSON.parse(new TextDecoder().decode(frame.body)))),
    close() {},
  });
  return seen;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 2000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(1);
  }
}

describe("RpcPeer hooks for retry-RPC", () => {
  it("holds calls while paused, lets control calls through, and sends the rest in id order on resume", async () => {
    const [client, server] = createMemoryTransportPair();
    const seen = recordRequests(server);
    const peer = new RpcPeer({ transport: client, onDisconnect: "hold" });
    peer.pause();
    const held = [1, 2].map((n) => peer.call(TestMethods.sleep, { ms: n }).catch(() => {}));
    const control = peer.call(TestMethods.echo, { text: "register" }, { control: true });
    control.catch(() => {});
    await until(() => seen.length === 1, "the control call");
    expect(seen[0]).toMatchObject({ id: 3, method: "test/echo" });
    peer.resume();
    await until(() => seen.length === 3, "the held calls");
    expect(seen.map((request) => request.id)).toEqual([3, 1, 2]);
    peer.close();
    await Promise.all(held);
  });

  it("rejects a control call whose transport is lost while ordinary calls stay held", async () => {
    const [client, server] = createMemoryTransportPair();
    recordRequests(server);
    const peer = new RpcPeer({ transport: client, onDisconnect: "hold" });
    const ordinary = peer.call(TestMethods.echo, { text: "kept" });
    const control = peer.call(TestMethods.echo, { text: "dropped" }, { control: true });
    client.close(new RialtoError("CONNECTION_LOST", "cable pulled"));
    await expect(control).rejects.toMatchObject({ code: "CONNECTION_LOST" });
    expect(peer.pendingCalls).toBe(1);
    const [client2, server2] = createMemoryTransportPair();
    const answering = new RpcPeer<unknown>({ transport: server2, router: createTestRouter() });
    peer.attach(client2);
    expect(await ordinary).toEqual({ text: "kept" });
    peer.close();
    answering.close();
  });

  it("rejects every pending call on request and stays usable", async () => {
    const [client, server] = createMemoryTransportPair();
    const answering = new RpcPeer<unknown>({ transport: server, router: createTestRouter() });
    const peer = new RpcPeer({ transport: client, onDisconnect: "hold" });
    peer.pause();
    const held = [
      peer.call(TestMethods.echo, { text: "a" }),
      peer.call(TestMethods.echo, { text: "b" }),
    ];
    expect(peer.rejectPending(new RialtoError("CONNECTION_LOST", "server forgot us"))).toBe(2);
    for (const call of held) await expect(call).rejects.toMatchObject({ code: "CONNECTION_LOST" });
    peer.resume();
    expect(await peer.call(TestMethods.echo, { text: "after" })).toEqual({ text: "after" });
    peer.close();
    answering.close();
  });

  it("counts the calls resume sends again as retransmissions", async () => {
    const [client, server] = createMemoryTransportPair();
    recordRequests(server);
    const peer = new RpcPeer({ transport: client, onDisconnect: "hold" });
    const calls = [peer.call(TestMethods.echo, { text: "sent" }).catch(() => {})];
    client.close();
    peer.pause();
    calls.push(peer.call(TestMethods.echo, { text: "new" }).catch(() => {}));
    const [client2, server2] = createMemoryTransportPair();
    recordRequests(server2);
    peer.attach(client2);
    expect(peer.resume()).toBe(1);
    peer.close();
    await Promise.all(calls);
  });

  it("puts the eventAck callback's value on every request", async () => {
    const [client, server] = createMemoryTransportPair();
    const seen = recordRequests(server);
    let eventsSeen = 7;
    const peer = new RpcPeer({ transport: client, eventAck: () => eventsSeen });
    peer.call(TestMethods.echo, { text: "a" }).catch(() => {});
    eventsSeen = 9;
    peer.call(TestMethods.echo, { text: "b" }).catch(() => {});
    await until(() => seen.length === 2, "two requests");
    expect(seen.map((request) => request.eventAck)).toEqual([7, 9]);
    peer.close();
  });
});
