import { describe, expect, it } from "bun:test";
import { existsSync, readlinkSync } from "node:fs";
import { ShmError } from "../errors.ts";
import { FdChannel } from "../fd-passing/fd-channel.ts";
import { type Libc, libc } from "../libc.ts";
import { mappingCount, openFdCount } from "../test-support/os-probes.ts";
import { describeSeals, HANDOUT_SEALS, MemfdSeal, SharedMemory } from "./shared-memory.ts";

function expectShmError(action: () => unknown, code: string, pattern?: RegExp): ShmError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ShmError);
  const error = caught as ShmError;
  expect(error.code).toBe(code as ShmError["code"]);
  if (pattern) expect(error.message).toMatch(pattern);
  return error;
}

describe("SharedMemory.create", () => {
  it("maps a close-on-exec memfd of the requested size, sealed for hand-out", () => {
    using memory = SharedMemory.create(8192, { name: "create-test" });
    expect(memory.size).toBe(8192);
    expect(memory.bytes.byteLength).toBe(8192);
    expect(memory.seals).toBe(HANDOUT_SEALS);
    expect(describeSeals(memory.seals)).toBe("seal|shrink|grow");
    expect(readlinkSync(`/proc/self/fd/${memory.fd}`)).toBe("/memfd:create-test (deleted)");
    const FD_CLOEXEC = 1;
    expect(libc.fcntl(memory.fd, 1 /* F_GETFD */, 0) & FD_CLOEXEC).toBe(FD_CLOEXEC);
  });

  it("shares bytes between two mappings of the same memfd without copying", () => {
    using memory = SharedMemory.create(4096, { name: "share-test" });
    const [a, b] = FdChannel.pair();
    using _a = a;
    using _b = b;
    a.sendFds([memory.fd]);
    using peer = SharedMemory.fromFd(b.receive()?.fds[0] ?? -1);
    memory.bytes.set([1, 2, 3], 100);
    expect([...peer.bytes.subarray(100, 103)]).toEqual([1, 2, 3]);
    peer.bytes[4095] = 9;
    expect(memory.bytes[4095]).toBe(9);
  });

  it("refuses to shrink or grow a sealed memfd with EPERM", () => {
    using memory = SharedMemory.create(4096);
    const shrink = expectShmError(() => libc.ftruncate(memory.fd, 0), "ERRNO", /ftruncate.*EPERM/);
    expect(shrink.errno).toBe("EPERM");
    expect(shrink.syscall).toBe("ftruncate");
    expect(expectShmError(() => libc.ftruncate(memory.fd, 8192), "ERRNO").errno).toBe("EPERM");
    expect(expectShmError(() => memory.addSeals(MemfdSeal.WRITE), "ERRNO").errno).toBe("EPERM");
    expect(memory.bytes[4095]).toBe(0);
  });

  it("can leave a memfd unsealed and seal it later", () => {
    using memory = SharedMemory.create(4096, { seals: 0 });
    expect(memory.seals).toBe(0);
    libc.ftruncate(memory.fd, 4096);
    memory.addSeals(MemfdSeal.SHRINK);
    expect(memory.seals).toBe(MemfdSeal.SHRINK);
  });

  it("rejects a size that is not a positive integer, naming the value", () => {
    for (const size of [0, -1, 1.5, Number.NaN]) {
      expectShmError(
        () => SharedMemory.create(size),
        "INVALID_ARGUMENT",
        new RegExp(`size ${size} `),
      );
    }
  });

  it("reports a failing system call with its errno name and closes what it opened", () => {
    const before = openFdCount();
    const failingMap: Libc = {
      ...libc,
      mapShared: () => {
        throw new ShmError("ERRNO", "mmap(fd, 4096 bytes) failed: ENOMEM", {
          errno: "ENOMEM",
          syscall: "mmap",
        });
      },
    };
    expect(expectShmError(() => SharedMemory.create(4096, {}, failingMap), "ERRNO").errno).toBe(
      "ENOMEM",
    );
    expect(openFdCount()).toBe(before);
    expect(expectShmError(() => libc.close(1_000_000), "ERRNO", /close\(fd 1000000\)/).errno).toBe(
      "EBADF",
    );
  });
});

describe("SharedMemory.fromFd", () => {
  function handOut(memory: SharedMemory): number {
    const [a, b] = FdChannel.pair();
    a.sendFds([memory.fd]);
    const fd = b.receive()?.fds[0] ?? -1;
    a.close();
    b.close();
    return fd;
  }

  it("takes the size from the memfd, never from the peer", () => {
    using memory = SharedMemory.create(12288);
    memory.bytes[12287] = 7;
    using peer = SharedMemory.fromFd(handOut(memory), { expectedSize: 12288 });
    expect(peer.size).toBe(12288);
    expect(peer.bytes[12287]).toBe(7);
  });

  it("refuses an unsealed memfd with NOT_SEALED and closes the fd", () => {
    using memory = SharedMemory.create(4096, { seals: 0 });
    const fd = handOut(memory);
    expectShmError(
      () => SharedMemory.fromFd(fd),
      "NOT_SEALED",
      /has seals none but shrink are required/,
    );
    expect(existsSync(`/proc/self/fd/${fd}`)).toBe(false);
  });

  it("refuses a memfd of an unexpected size", () => {
    using memory = SharedMemory.create(4096);
    expectShmError(
      () => SharedMemory.fromFd(handOut(memory), { expectedSize: 8192 }),
      "INVALID_ARGUMENT",
      /is 4096 bytes, expected 8192/,
    );
  });

  it("refuses an fd that is not a memfd", () => {
    const [a, b] = FdChannel.pair();
    b.close();
    expectShmError(() => SharedMemory.fromFd(a.fd), "NOT_SEALED", /not a sealable memfd/);
  });
});

describe("SharedMemory lifetime", () => {
  it("unmaps at once on dispose and detaches every view instead of faulting", () => {
    const before = mappingCount("memfd:dispose-test");
    const memory = SharedMemory.create(65536, { name: "dispose-test" });
    const view = memory.bytes.subarray(10, 20);
    expect(mappingCount("memfd:dispose-test")).toBe(before + 1);
    memory[Symbol.dispose]();
    expect(mappingCount("memfd:dispose-test")).toBe(before);
    expect(view.byteLength).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(existsSync(`/proc/self/fd/${memory.fd}`)).toBe(false);
    expectShmError(() => memory.bytes, "CLOSED");
    memory.close();
  });

  it("is unmapped by the garbage collector when never closed", () => {
    const before = mappingCount("memfd:gc-test");
    const fds = (() => {
      const leaked = Array.from({ length: 5 }, () =>
        SharedMemory.create(65536, { name: "gc-test" }),
      );
      for (const memory of leaked) memory.bytes.fill(1);
      return leaked.map((memory) => memory.fd);
    })();
    expect(mappingCount("memfd:gc-test")).toBe(before + 5);
    Bun.gc(true);
    expect(mappingCount("memfd:gc-test")).toBe(before);
    for (const fd of fds) libc.close(fd);
  });

  it("leaks neither mappings nor fds over 1000 create/dispose cycles", () => {
    const fdsBefore = openFdCount();
    const mapsBefore = mappingCount("memfd:cycle-test");
    for (let i = 0; i < 1000; i++) {
      using memory = SharedMemory.create(16384, { name: "cycle-test" });
      memory.bytes[i % 16384] = 1;
    }
    expect(mappingCount("memfd:cycle-test")).toBe(mapsBefore);
    expect(openFdCount()).toBe(fdsBefore);
  });
});
