import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
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
