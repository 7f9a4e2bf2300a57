import { describe, expect, it } from "bun:test";
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ShmError } from "../errors.ts";
import { libc, SOCK_SEQPACKET } from "../libc.ts";
import { errorOf } from "../test-support/shm-error-of.ts";
import { tempDirPerTest } from "../test-support/temp-dir.ts";
import { FdChannel } from "./fd-channel.ts";
import { FdListener } from "./fd-listener.ts";

const temp = tempDirPerTest("shm-listener-");
const sidePath = () => join(temp.dir, "side.sock");

/** A socket file nobody listens on, as a crashed server leaves behind. */
function leaveStaleSocket(at: string): void {
  const fd = libc.socket(SOCK_SEQPACKET);
  libc.bind(fd, at);
  libc.close(fd);
}

describe("FdListener", () => {
  it("creates the socket with the requested mode", () => {
    using _listener = FdListener.listen(sidePath(), { mode: 0o660 });
    const stats = statSync(sidePath());
    expect(stats.isSocket()).toBe(true);
    expect(stats.mode & 0o777).toBe(0o660);
  });

  it("accepts every pending connection as a working FdChannel", () => {
    using listener = FdListener.listen(sidePath());
    expect(listener.acceptPending()).toEqual([]);
    using first = FdChannel.connect(sidePath());
    using second = FdChannel.connect(sidePath());
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
    using live = FdListener.listen(sidePath());
    expect(errorOf(() => FdListener.listen(sidePath())).message).toContain("has a live listener");
    using client = FdChannel.connect(sidePath());
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
    leaveStaleSocket(sidePath());
    expect(errorOf(() => FdChannel.connect(sidePath())).errno).toBe("ECONNREFUSED");
    using listener = FdListener.listen(sidePath());
    using _client = FdChannel.connect(sidePath());
    const accepted = listener.acceptPending();
    expect(accepted).toHaveLength(1);
    accepted[0]?.close();
  });

  it("never replaces a file that is not a socket", () => {
    writeFileSync(sidePath(), "precious");
    expect(errorOf(() => FdListener.listen(sidePath())).code).toBe("ADDRESS_IN_USE");
    expect(readFileSync(sidePath(), "utf8")).toBe("precious");
  });

  it("unlinks its path on close, but not a path that was replaced meanwhile", () => {
    const listener = FdListener.listen(sidePath());
    listener.close();
    expect(existsSync(sidePath())).toBe(false);
    expect(errorOf(() => listener.acceptPending()).code).toBe("CLOSED");

    const moved = FdListener.listen(sidePath());
    renameSync(sidePath(), join(temp.dir, "moved.sock"));
    using _successor = FdListener.listen(sidePath());
    moved.close();
    expect(statSync(sidePath()).isSocket()).toBe(true);
  });

  it("fails to connect to a missing path with ENOENT and rejects overlong paths", () => {
    expect(errorOf(() => FdChannel.connect(join(temp.dir, "missing.sock"))).errno).toBe("ENOENT");
    expect(errorOf(() => FdListener.listen(join(temp.dir, "x".repeat(120)))).code).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
