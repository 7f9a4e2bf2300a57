import { describe, expect, it } from "bun:test";
import { connect } from "node:net";
import { SseHub } from "./sse-hub.ts";

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

describe("SseHub", () => {
  it("writes events in the text/event-stream format, in order", async () => {
    const hub = new SseHub({ maxClients: 2, maxBufferedBytes: 1024 });
    const stream = hub.open(
      (client) => client.send("apps", { n: 1 }),
      () => {},
    );
    hub.broadcast("monitor", { type: "client_state_end", count: 0 });
    hub.closeAll();
    const text = await new Response(stream).text();
    expect(text).toBe(
      'event: apps\ndata: {"n":1}\n\nevent: monitor\ndata: {"type":"client_state_end","count":0}\n\n',
    );
    expect(hub.size).toBe(0);
  });

  it("refuses a client past maxClients and takes one again once a client left", () => {
    const hub = new SseHub({ maxClients: 2, maxBufferedBytes: 1024 });
    const closed: number[] = [];
    const first = hub.open(
      () => {},
      () => closed.push(1),
    );
    expect(
      hub.open(
        () => {},
        () => {},
      ),
    ).toBeDefined();
    expect(
      hub.open(
        () => {},
        () => {},
      ),
    ).toBeUndefined();
    expect(hub.size).toBe(2);
    void first?.cancel();
    expect(closed).toEqual([1]);
    expect(hub.size).toBe(1);
    expect(
      hub.open(
        () => {},
        () => {},
      ),
    ).toBeDefined();
  });

  it("drops a client that does not read once its queue is over the limit, and keeps the others", async () => {
    const hub = new SseHub({ maxClients: 4, maxBufferedBytes: 4096 });
    let droppedClosed = false;
    const slow = hub.open(
      () => {},
      () => {
        droppedClosed = true;
      },
    );
    const fast = hub.open(
      () => {},
      () => {},
    );
    const reader = fast?.getReader();
    const payload = { text: "x".repeat(500) };
    for (let i = 0; i < 20 && !droppedClosed; i++) {
      hub.broadcast("apps", payload);
      await reader?.read();
    }
    expect(droppedClosed).toBe(true);
    expect(hub.dropped).toBe(1);
    expect(hub.size).toBe(1);
    await expect(slow?.getReader().read()).rejects.toThrow("too slow");
    hub.closeAll();
  });

  it("drops a slow reader on a real HTTP socket instead of buffering for it", async () => {
    const hub = new SseHub({ maxClients: 4, maxBufferedBytes: 64 * 1024 });
    using server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request, srv) => {
        srv.timeout(request, 0);
        const stream = hub.open(
          () => {},
          () => {},
        );
        return new Response(stream, { headers: { "Content-Type": "text/event-stream" } });
      },
    });
    // A client that sends its request, then stops reading: the kernel buffers fill up.
    const port = server.port ?? 0;
    const socket = connect(port, "127.0.0.1");
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    socket.pause();
    await until("the client to connect", () => hub.size === 1);
    const chunk = { text: "y".repeat(60 * 1024) };
    let sent = 0;
    while (hub.dropped === 0 && sent < 4096) {
      hub.broadcast("apps", chunk);
      sent++;
      await Bun.sleep(1);
    }
    socket.destroy();
    expect(hub.dropped).toBe(1);
    expect(hub.size).toBe(0);
    // Bounded: dropped once the kernel's socket buffers (about 4 MiB here) and the 64 KiB queue
    // are full, not after the 240 MiB the loop would send.
    expect(sent * 60 * 1024).toBeLessThan(16 * 1024 * 1024);
  });
});
