import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import { OutputBudget } from "./output-budget.ts";
import { isListening, listenUnix, SocketTransport } from "./socket-transport.ts";

/** A transport on a stand-in socket that records every write the OS would have seen. */
function recordedTransport() {
  const writes: number[][] = [];
  let ended = false;
  const transport = new SocketTransport();
  transport.attach({
    write: (bytes: Uint8Array) => {
      writes.push([...bytes]);
      return bytes.byteLength;
    },
    end: () => {
      ended = true;
    },
  } as unknown as Socket<SocketTransport>);
  return { transport, writes, ended: () => ended };
}

describe("SocketTransport writes", () => {
  it("sends everything written while one received chunk is handled in one write", () => {
    const { transport, writes } = recordedTransport();
    // Answers each received byte with its own write, as a peer answers a burst of requests.
    transport.start({
      data: (bytes) => {
        for (const byte of bytes) transport.write(new Uint8Array([byte, byte]));
      },
      close: () => {},
    });
    transport.received(new Uint8Array([1, 2, 3]));
    expect(writes).toEqual([[1, 1, 2, 2, 3, 3]]);
    // Outside a chunk's handling a write goes out at once.
    transport.write(new Uint8Array([9]));
    expect(writes).toEqual([[1, 1, 2, 2, 3, 3], [9]]);
  });

  it("still sends what a chunk's handling wrote before it closed the transport", () => {
    const { transport, writes, ended } = recordedTransport();
    transport.start({
      data: () => {
        transport.write(new Uint8Array([4]));
        transport.close();
        transport.write(new Uint8Array([5]));
      },
      close: () => {},
    });
    transport.received(new Uint8Array([0]));
    expect(writes).toEqual([[4]]);
    expect(ended()).toBe(true);
  });
});

describe("listenUnix", () => {
  const dirs: string[] = [];
  const dir = () => {
    const made = mkdtempSync(join(tmpdir(), "rialto-listen-"));
    dirs.push(made);
    return made;
  };
  afterEach(() => {
    for (const made of dirs.splice(0)) rmSync(made, { recursive: true, force: true });
  });

  it("creates the socket with the requested mode and removes it on close", async () => {
    const path = join(dir(), "a.sock");
    const listener = await listenUnix(path, () => {}, { mode: 0o600 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await isListening(path)).toBe(true);
    listener.close();
    expect(await isListening(path)).toBe(false);
  });

  it("replaces a stale socket file nobody listens on", async () => {
    const path = join(dir(), "stale.sock");
    writeFileSync(path, "");
    expect(await isListening(path)).toBe(false);
    await using listener = await listenUnix(path, () => {});
    expect(await isListening(listener.path)).toBe(true);
  });

  it("refuses to take over a socket a live server listens on", async () => {
    const path = join(dir(), "live.sock");
    await using _live = await listenUnix(path, () => {});
    const error = await listenUnix(path, () => {}).catch((e) => e);
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain("in use by a running server");
    expect(await isListening(path)).toBe(true);
  });
});

/** A stand-in socket whose peer reads only while `reading` is true; records pause/resume/terminate. */
function standInSocket() {
  const state = { reading: true, paused: false, terminated: false, ended: false, written: 0 };
  const socket = {
    write: (bytes: Uint8Array) => {
      if (!state.reading) return 0;
      state.written += bytes.byteLength;
      return bytes.byteLength;
    },
    end: () => {
      state.ended = true;
    },
    terminate: () => {
      state.terminated = true;
    },
    pause: () => {
      state.paused = true;
    },
    resume: () => {
      state.paused = false;
    },
  } as unknown as Socket<SocketTransport>;
  return { socket, state };
}

describe("SocketTransport server limits", () => {
  it("stops reading a peer whose replies pile up, and reads again once they drained below half", () => {
    const { socket, state } = standInSocket();
    const transport = new SocketTransport({ pauseReadingAboveBytes: 100 });
    transport.attach(socket);
    transport.start({ data: () => transport.write(new Uint8Array(60)), close: () => {} });
    state.reading = false;
    transport.received(new Uint8Array(1));
    expect(state.paused).toBe(false);
    transport.received(new Uint8Array(1));
    expect(transport.readingPaused).toBe(true);
    expect(state.paused).toBe(true);
    state.reading = true;
    transport.flush();
    expect(transport.readingPaused).toBe(false);
    expect(state.paused).toBe(false);
    expect(state.written).toBe(120);
  });

  it("cuts off, without a graceful end, a peer that takes none of its output for the stall deadline", async () => {
    const { socket, state } = standInSocket();
    const transport = new SocketTransport({ writeStallTimeoutMs: 50 });
    transport.attach(socket);
    const closed = Promise.withResolvers<unknown>();
    transport.start({ data: () => {}, close: (cause) => closed.resolve(cause) });
    state.reading = false;
    transport.write(new Uint8Array(10));
    const started = performance.now();
    expect(await closed.promise).toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    expect(state.terminated).toBe(true);
    expect(state.ended).toBe(false);
  });

  it("cuts off the worst reader once all connections together queue more than the budget", () => {
    const budget = new OutputBudget(100);
    const [a, b] = [standInSocket(), standInSocket()];
    const first = new SocketTransport({ budget });
    const second = new SocketTransport({ budget });
    first.attach(a.socket);
    second.attach(b.socket);
    const closes: string[] = [];
    first.start({ data: () => {}, close: () => closes.push("first") });
    second.start({ data: () => {}, close: () => closes.push("second") });
    a.state.reading = false;
    b.state.reading = false;
    first.write(new Uint8Array(30));
    second.write(new Uint8Array(60));
    expect(budget.totalBytes).toBe(90);
    // The first writes again and takes the total past 100: the second, the worse reader, goes.
    first.write(new Uint8Array(20));
    expect(closes).toEqual(["second"]);
    expect(budget.totalBytes).toBe(50);
    expect(budget.cutOff).toBe(1);
  });

  it("hands a large chunk over in slices, yields the event loop once its share is spent, and keeps the order", async () => {
    const { socket, state } = standInSocket();
    const transport = new SocketTransport({ yieldAfterMs: 1 });
    transport.attach(socket);
    const got: number[] = [];
    transport.start({
      data: (bytes) => {
        got.push(...bytes.subarray(0, 1));
        const until = performance.now() + 0.6;
        while (performance.now() < until) {
          // Work that takes time, as a burst of requests does.
        }
      },
      close: () => {},
    });
    const chunk = new Uint8Array(64 * 1024).map((_, i) => Math.floor(i / 2048));
    transport.received(chunk);
    // Not everything at once: the rest waits for a later turn, reading paused meanwhile.
    expect(got.length).toBeLessThan(32);
    expect(state.paused).toBe(true);
    await new Promise<void>((resolve) => {
      const check = () => (got.length === 32 ? resolve() : setImmediate(check));
      check();
    });
    expect(got).toEqual(Array.from({ length: 32 }, (_, i) => i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.paused).toBe(false);
  });
});
