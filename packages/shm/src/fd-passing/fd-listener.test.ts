import { afterEach, beforeEach, describe, expect, it } from "bun:test";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShmError } from "../errors.ts";
import { libc, SOCK_SEQPACKET } from "../libc.ts";
import { FdChannel } from "./fd-channel.ts";
import { FdListener } from "./fd-listener.ts";

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "shm-listener-"));
  path = join(dir, "side.sock");
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function errorOf(action: () => unknown): ShmError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ShmError);
    return error as ShmError;
  }
  throw new Error("expected a ShmError, nothing was thrown");
}

/** A socket file nobody listens on, as a crashed server leaves behind. */
function leaveStaleSocket(at: string): void {
  const fd = libc.socket(SOCK_SEQPACKET);
  libc.bind(fd, at);
  libc.close(fd);
}

describe("FdListener", () => {
  it("creates the socket with the requested mode", () => {
    using _listener = FdListener.listen(path, { mode: 0o660 });
    const stats = statSync(path);
    expect(stats.isSocket()).toBe(true);
    expect(stats.mode & 0o777).toBe(0o660);
  });

  it("accepts every pending connection as a working FdChannel", () => {
    using listener = FdListener.listen(path);
    expect(listener.acceptPending()).toEqual([]);
    using first = FdChannel.connect(path);
    using second = FdChannel.connect(path);
    const accepted = listener.acceptPending();
    expect(accepted).toHaveLength(2);
    first.sendFds([], new TextEncoder().encode("first"));
    second.sendFds([], new TextEncoder().encode("second"));
    const texts = accepted.map((channel) => new TextDecoder().decode(channel.receive()?.data));
    expect(texts.sort()).toEqual(["first", "second"]);
    accepted[0]?.sendFds([], new TextEncoder().encode("reply"));
    const replies = [first.receive(), second.receive()].filter((record) => record !== undefined);
    expect(replies).toHaveLength(1);
    for (const channel of accepted) channel.close();
  });

  it("refuses to replace a path someone is listening on, and that listener keeps working", () => {
    using live = FdListener.listen(path);
    expect(errorOf(() => FdListener.listen(path)).message).toContain("has a live listener");
    using client = FdChannel.connect(path);
    client.sendFds([], new Uint8Array([7]));
    // The refused listen left one probe connection behind; it reads as closed.
    const outcomes = live.acceptPending().map((channel) => {
      try {
        return channel.receive()?.data[0];
      } catch (error) {
        return (error as ShmError).code;
      } finally {
        channel.close();
      }
    });
    expect(outcomes).toEqual(["PEER_CLOSED", 7]);
  });

  it("replaces a stale socket file nobody listens on", () => {
    leaveStaleSocket(path);
    expect(errorOf(() => FdChannel.connect(path)).errno).toBe("ECONNREFUSED");
    using listener = FdListener.listen(path);
    using _client = FdChannel.connect(path);
    const accepted = listener.acceptPending();
    expect(accepted).toHaveLength(1);
    accepted[0]?.close();
  });

  it("never replaces a file that is not a socket", () => {
    writeFileSync(path, "precious");
    expect(errorOf(() => FdListener.listen(path)).code).toBe("ADDRESS_IN_USE");
    expect(readFileSync(path, "utf8")).toBe("precious");
  });

  it("unlinks its path on close, but not a path that was replaced meanwhile", () => {
    const listener = FdListener.listen(path);
    listener.close();
    expect(existsSync(path)).toBe(false);
    expect(errorOf(() => listener.acceptPending()).code).toBe("CLOSED");

    const moved = FdListener.listen(path);
    renameSync(path, join(dir, "moved.sock"));
    using _successor = FdListener.listen(path);
    moved.close();
    expect(statSync(path).isSocket()).toBe(true);
  });

  it("fails to connect to a missing path with ENOENT and rejects overlong paths", () => {
    expect(errorOf(() => FdChannel.connect(join(dir, "missing.sock"))).errno).toBe("ENOENT");
    expect(errorOf(() => FdListener.listen(join(dir, "x".repeat(120)))).code).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
