import { describe, expect, it } from "bun:test";
import { readlinkSync } from "node:fs";
import { RECORD_MAX_DATA, RECORD_MAX_FDS } from "../layout.ts";
import { libc, SOCK_STREAM } from "../libc.ts";
import { SharedMemory } from "../memory/shared-memory.ts";
import { openFdCount } from "../test-support/os-probes.ts";
import { errorOf } from "../test-support/shm-error-of.ts";
import { closeFd, FdChannel } from "./fd-channel.ts";

const F_GETFD = 1;
const FD_CLOEXEC = 1;
const text = (value: string) => new TextEncoder().encode(value);

describe("FdChannel", () => {
  it("carries fds and data in one record; received fds are new, close-on-exec copies", () => {
    using memory = SharedMemory.create(4096, { name: "channel-test" });
    const [a, b] = FdChannel.pair();
    using _a = a;
    using _b = b;
    a.sendFds([memory.fd, memory.fd], text("av-buffer"));
    const record = b.receive();
    expect(new TextDecoder().decode(record?.data)).toBe("av-buffer");
    expect(record?.fds).toHaveLength(2);
    for (const fd of record?.fds ?? []) {
      expect(fd).not.toBe(memory.fd);
      expect(readlinkSync(`/proc/self/fd/${fd}`)).toBe("/memfd:channel-test (deleted)");
      expect(libc.fcntl(fd, F_GETFD, 0) & FD_CLOEXEC).toBe(FD_CLOEXEC);
      closeFd(fd);
    }
  });

  it("returns undefined when nothing is queued and keeps record boundaries", () => {
    const [a, b] = FdChannel.pair();
    using _a = a;
    using _b = b;
    expect(b.receive()).toBeUndefined();
    a.sendFds([], text("one"));
    a.sendFds([], text("two"));
    a.sendFds([]);
    expect(new TextDecoder().decode(b.receive()?.data)).toBe("one");
    expect(new TextDecoder().decode(b.receive()?.data)).toBe("two");
    expect(b.receive()).toEqual({ data: new Uint8Array(0), fds: [] });
    expect(b.receive()).toBeUndefined();
  });

  it("works in both directions", () => {
    const [a, b] = FdChannel.pair();
    using _a = a;
    using _b = b;
    b.sendFds([], text("back"));
    expect(new TextDecoder().decode(a.receive()?.data)).toBe("back");
  });

  it("tells a closed peer from an empty record with PEER_CLOSED", () => {
    const [a, b] = FdChannel.pair();
    using _b = b;
    a.sendFds([]);
    a.close();
    expect(b.receive()?.data.byteLength).toBe(0);
    expect(errorOf(() => b.receive()).code).toBe("PEER_CLOSED");
    expect(errorOf(() => a.sendFds([])).code).toBe("CLOSED");
  });

  it("fails with EPIPE when sending to a closed peer", () => {
    const [a, b] = FdChannel.pair();
    using _a = a;
    b.close();
    const error = errorOf(() => a.sendFds([], text("x")));
    expect(error.code).toBe("ERRNO");
    expect(error.errno).toBe("EPIPE");
  });

  it("rejects too many fds, too much data and non-fds, naming the value", () => {
    const [a, b] = FdChannel.pair();
    using _a = a;
    using _b = b;
    const tooMany = Array.from({ length: RECORD_MAX_FDS + 1 }, () => 0);
    expect(errorOf(() => a.sendFds(tooMany)).message).toContain(`${RECORD_MAX_FDS + 1} fds`);
    expect(errorOf(() => a.sendFds([], new Uint8Array(RECORD_MAX_DATA + 1))).message).toContain(
      `${RECORD_MAX_DATA + 1} bytes`,
    );
    expect(errorOf(() => a.sendFds([-1])).code).toBe("INVALID_ARGUMENT");
    expect(errorOf(() => a.sendFds([1_000_000])).errno).toBe("EBADF");
    expect(b.receive()).toBeUndefined();
  });

  it("rejects a record it did not frame with BAD_RECORD and closes its fds", () => {
    using memory = SharedMemory.create(4096);
    const [a, b] = FdChannel.pair();
    using _a = a;
    using _b = b;
    const before = openFdCount();
    libc.sendmsg(a.fd, text("?raw"), [memory.fd]);
    expect(errorOf(() => b.receive()).code).toBe("BAD_RECORD");
    expect(openFdCount()).toBe(before);
  });

  it("adopts only SOCK_SEQPACKET sockets", () => {
    const [x, y] = libc.socketPair(SOCK_STREAM);
    expect(errorOf(() => FdChannel.fromFd(x)).message).toContain("not SOCK_SEQPACKET");
    libc.close(x);
    libc.close(y);
    expect(errorOf(() => FdChannel.fromFd(0)).errno).toBe("ENOTSOCK");
  });

  it("reports the peer's credentials", () => {
    const [a, b] = FdChannel.pair();
    using _a = a;
    using _b = b;
    expect(a.peerCredentials()).toEqual({
      pid: process.pid,
      uid: process.getuid?.() ?? -1,
      gid: process.getgid?.() ?? -1,
    });
  });

  it("leaks no fd over 10,000 pass-and-close cycles", () => {
    using memory = SharedMemory.create(4096);
    const before = openFdCount();
    for (let round = 0; round < 100; round++) {
      const [a, b] = FdChannel.pair();
      for (let i = 0; i < 100; i++) {
        a.sendFds([memory.fd], text("x"));
        const fd = b.receive()?.fds[0];
        if (fd === undefined) throw new Error(`cycle ${round * 100 + i}: no fd received`);
        closeFd(fd);
      }
      a.sendFds([memory.fd, memory.fd]);
      a.close();
      b.close();
    }
    expect(openFdCount()).toBe(before);
  });
});
