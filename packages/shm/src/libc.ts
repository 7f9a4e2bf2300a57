import type * as BunFfi from "bun:ffi";
import type * as NodeOs from "node:os";
import { ShmError } from "./errors.ts";

/** memfd_create flag: close the fd on exec. */
export const MFD_CLOEXEC = 0x1;
/** memfd_create flag: allow F_ADD_SEALS on the memfd. */
export const MFD_ALLOW_SEALING = 0x2;
/** fcntl command: add seals to a memfd. */
export const F_ADD_SEALS = 1033;
/** fcntl command: read the seals of a memfd. */
export const F_GET_SEALS = 1034;
/** fcntl command: duplicate an fd with close-on-exec set. */
export const F_DUPFD_CLOEXEC = 1030;
/** Socket type: reliable, ordered, record-preserving. */
export const SOCK_SEQPACKET = 5;
/** Socket type: byte stream. */
export const SOCK_STREAM = 1;

const AF_UNIX = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_PEERCRED = 17;
const SCM_RIGHTS = 1;
const MSG_TRUNC = 0x20;
const MSG_CTRUNC = 0x8;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const SEEK_END = 2;
const EAGAIN = 11;
const EINTR = 4;
const LOCK_EX = 2;
const LOCK_NB = 4;
const SUN_PATH_MAX = 107;
// Linux x86-64 / aarch64 (LP64) struct layouts: msghdr 56 B, iovec 16 B, cmsghdr 16 B.
const MSGHDR_SIZE = 56;
const CMSG_HEADER_SIZE = 16;
const SOCKADDR_UN_SIZE = 110;
const POLLFD_SIZE = 8;
const POLLIN = 1;
const MADV_DONTNEED = 4;

/** The libc functions this package calls, as bun:ffi declares them. */
const SYMBOLS = {
  memfd_create: { args: ["ptr", "u32"], returns: "i32" },
  ftruncate: { args: ["i32", "i64"], returns: "i32" },
  lseek: { args: ["i32", "i64", "i32"], returns: "i64" },
  fcntl: { args: ["i32", "i32", "i32"], returns: "i32" },
  mmap: { args: ["ptr", "u64", "i32", "i32", "i32", "i64"], returns: "i64" },
  close: { args: ["i32"], returns: "i32" },
  socketpair: { args: ["i32", "i32", "i32", "ptr"], returns: "i32" },
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
  listen: { args: ["i32", "i32"], returns: "i32" },
  accept4: { args: ["i32", "ptr", "ptr", "i32"], returns: "i32" },
  connect: { args: ["i32", "ptr", "u32"], returns: "i32" },
  sendmsg: { args: ["i32", "ptr", "i32"], returns: "i32" },
  recvmsg: { args: ["i32", "ptr", "i32"], returns: "i32" },
  getsockopt: { args: ["i32", "i32", "i32", "ptr", "ptr"], returns: "i32" },
  flock: { args: ["i32", "i32"], returns: "i32" },
  poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
  madvise: { args: ["u64", "u64", "i32"], returns: "i32" },
  dlsym: { args: ["ptr", "ptr"], returns: "ptr" },
  strerror: { args: ["i32"], returns: "cstring" },
  __errno_location: { args: [], returns: "ptr" },
} as const satisfies Record<string, BunFfi.FFIFunction>;

/**
 * bun:ffi and libc, opened by the first call: loading bun:ffi costs a process about 10 ms of
 * start-up and several MiB, and a session server waiting Inactive makes no call (its listening
 * sockets arrive as inherited fds, its shared memory with the Active state).
 */
function open() {
  const ffi = require("bun:ffi") as typeof BunFfi;
  const { symbols } = ffi.dlopen("libc.so.6", SYMBOLS);
  return {
    ffi,
    C: symbols,
    munmap: symbols.dlsym(null, new TextEncoder().encode("munmap\0")),
  };
}

let opened: ReturnType<typeof open> | undefined;
const native = () => (opened ??= open());

/**
 * Opens bun:ffi and libc now rather than with the first call: for a process that has time to
 * spare before it needs them (a preloaded session server waiting for its app).
 */
export function loadLibc(): void {
  native();
}
/** errno names by number, from node:os (loaded with the first error named: it costs start-up). */
let errnoNames: Map<number, string> | undefined;

// Scratch structs are backed by explicit ArrayBuffers so their addresses never move.
const msghdr = new DataView(new ArrayBuffer(MSGHDR_SIZE));
const iovec = new DataView(new ArrayBuffer(16));
const control = new DataView(new ArrayBuffer(CMSG_HEADER_SIZE + 8 * 64));
const sockaddr = new Uint8Array(new ArrayBuffer(SOCKADDR_UN_SIZE));
const intPair = new Int32Array(new ArrayBuffer(8));
const optValue = new Int32Array(new ArrayBuffer(12));
const optLength = new Uint32Array(new ArrayBuffer(4));

/** Credentials of the process at the other end of a Unix socket (SO_PEERCRED). */
export interface PeerCredentials {
  /** Process id of the peer when it connected. */
  readonly pid: number;
  /** Effective user id of the peer. */
  readonly uid: number;
  /** Effective group id of the peer. */
  readonly gid: number;
}

/** One record read by {@link Libc.recvmsg}. */
export interface ReceivedMessage {
  /** Bytes of payload written into the caller's buffer (0: end of stream). */
  readonly length: number;
  /** File descriptors that arrived with the record, already close-on-exec. */
  readonly fds: number[];
  /** True when the payload or the fd list did not fit and was cut by the kernel. */
  readonly truncated: boolean;
}

/**
 * The libc calls this package makes, as thin typed wrappers. Failures throw
 * {@link ShmError} with code `ERRNO` and the errno name; nothing else in the package
 * touches `bun:ffi`.
 */
export interface Libc {
  /** memfd_create(2); returns the new fd. */
  memfdCreate(name: string, flags: number): number;
  /** ftruncate(2). */
  ftruncate(fd: number, size: number): void;
  /** Size of the file in bytes, via lseek(fd, 0, SEEK_END). */
  fileSize(fd: number): number;
  /** fcntl(2) with an int argument; returns the result. */
  fcntl(fd: number, command: number, argument: number): number;
  /**
   * mmap(2) MAP_SHARED of `size` bytes at offset 0, wrapped without copying. The buffer
   * unmaps itself when garbage-collected, or at once through `buffer.transfer(0)`.
   */
  mapShared(fd: number, size: number, writable: boolean): ArrayBuffer;
  /** close(2). */
  close(fd: number): void;
  /** socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC). */
  socketPair(type: number): [number, number];
  /** socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC). */
  socket(type: number): number;
  /** bind(2) to a filesystem path. */
  bind(fd: number, path: string): void;
  /** listen(2). */
  listen(fd: number, backlog: number): void;
  /** accept4(2), non-blocking and close-on-exec; `undefined` when nothing is pending. */
  accept(fd: number): number | undefined;
  /** connect(2) to a filesystem path. */
  connect(fd: number, path: string): void;
  /** sendmsg(2) of `data` with `fds` as SCM_RIGHTS, non-blocking, no SIGPIPE. */
  sendmsg(fd: number, data: Uint8Array, fds: readonly number[]): void;
  /**
   * recvmsg(2) into `buffer`, non-blocking, received fds close-on-exec, at most `maxFds`
   * fds accepted; `undefined` when nothing is queued.
   */
  recvmsg(fd: number, buffer: Uint8Array, maxFds: number): ReceivedMessage | undefined;
  /** getsockopt(SO_TYPE). */
  socketType(fd: number): number;
  /** getsockopt(SO_PEERCRED). */
  peerCredentials(fd: number): PeerCredentials;
  /** flock(LOCK_EX | LOCK_NB); false when another open file holds the lock. */
  tryLockExclusive(fd: number): boolean;
  /**
   * One poll(2) for POLLIN over `fds`: which of them are readable (for a listening socket: a
   * connection waits in its backlog). Waits up to `timeoutMs` for one (default 0: not at all;
   * -1: until one is, which blocks the calling thread).
   */
  readable(fds: readonly number[], timeoutMs?: number): boolean[];
  /**
   * madvise(MADV_DONTNEED) over `length` bytes at `address`: this process's page-table entries
   * for them go. Only for mappings whose pages equal their file's (clean, never written): those
   * fault back in from the page cache when touched again; anything else would lose data.
   */
  dropPages(address: bigint, length: bigint): void;
}

function errno(): number {
  const location = native().C.__errno_location();
  return location === null ? 0 : native().ffi.read.i32(location, 0);
}

/** Symbolic name of an errno number, e.g. 1 → `"EPERM"`. */
export function errnoName(code: number): string {
  errnoNames ??= new Map(
    Object.entries((require("node:os") as typeof NodeOs).constants.errno).map(([name, value]) => [
      value,
      name,
    ]),
  );
  return errnoNames.get(code) ?? `E${code}`;
}

function fail(syscall: string, what: string, code = errno()): never {
  const name = errnoName(code);
  throw new ShmError(
    "ERRNO",
    `${syscall}(${what}) failed: ${name} (${native().C.strerror(code)})`,
    {
      errno: name,
      syscall,
    },
  );
}

function check(result: number, syscall: string, what: string): number {
  if (result < 0) fail(syscall, what);
  return result;
}

function encodeSockaddr(path: string): number {
  const bytes = new TextEncoder().encode(path);
  if (bytes.length === 0 || bytes.length > SUN_PATH_MAX) {
    throw new ShmError(
      "INVALID_ARGUMENT",
      `socket path "${path}" is ${bytes.length} bytes; it must be 1 to ${SUN_PATH_MAX}`,
    );
  }
  sockaddr.fill(0);
  new DataView(sockaddr.buffer).setUint16(0, AF_UNIX, true);
  sockaddr.set(bytes, 2);
  return 2 + bytes.length + 1;
}

function setPointer(view: DataView, offset: number, address: number): void {
  view.setUint32(offset, address >>> 0, true);
  view.setUint32(offset + 4, Math.floor(address / 0x1_0000_0000), true);
}

function prepareMessage(data: Uint8Array, controlLength: number): void {
  setPointer(iovec, 0, data.byteLength === 0 ? 0 : native().ffi.ptr(data));
  setPointer(iovec, 8, data.byteLength);
  for (let i = 0; i < MSGHDR_SIZE; i += 4) msghdr.setUint32(i, 0, true);
  setPointer(msghdr, 16, native().ffi.ptr(iovec));
  setPointer(msghdr, 24, 1);
  if (controlLength > 0) {
    setPointer(msghdr, 32, native().ffi.ptr(control));
    setPointer(msghdr, 40, controlLength);
  }
}

function controlSpace(fdCount: number): number {
  const space = CMSG_HEADER_SIZE + Math.ceil((4 * fdCount) / 8) * 8;
  if (space > control.byteLength) {
    throw new ShmError("INVALID_ARGUMENT", `${fdCount} fds do not fit one control message`);
  }
  return space;
}

function readReceivedFds(controlLength: number): number[] {
  const fds: number[] = [];
  let offset = 0;
  while (offset + CMSG_HEADER_SIZE <= controlLength) {
    const length = Number(control.getBigUint64(offset, true));
    if (length < CMSG_HEADER_SIZE || offset + length > controlLength) break;
    const level = control.getInt32(offset + 8, true);
    const type = control.getInt32(offset + 12, true);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let at = offset + CMSG_HEADER_SIZE; at + 4 <= offset + length; at += 4) {
        fds.push(control.getInt32(at, true));
      }
    }
    offset += Math.ceil(length / 8) * 8;
  }
  return fds;
}

function getIntOption(fd: number, option: number, size: number, name: string): void {
  optLength[0] = size;
  check(
    native().C.getsockopt(fd, SOL_SOCKET, option, optValue, optLength),
    "getsockopt",
    `fd ${fd}, ${name}`,
  );
}

/** The real libc, bound through `bun:ffi`. */
export const libc: Libc = {
  memfdCreate(name, flags) {
    const encoded = new TextEncoder().encode(`${name}\0`);
    return check(native().C.memfd_create(encoded, flags), "memfd_create", `"${name}"`);
  },
  ftruncate(fd, size) {
    check(native().C.ftruncate(fd, size), "ftruncate", `fd ${fd}, ${size}`);
  },
  fileSize(fd) {
    const size = native().C.lseek(fd, 0, SEEK_END);
    if (size < 0n) fail("lseek", `fd ${fd}, 0, SEEK_END`);
    return Number(size);
  },
  fcntl(fd, command, argument) {
    return check(
      native().C.fcntl(fd, command, argument),
      "fcntl",
      `fd ${fd}, ${command}, ${argument}`,
    );
  },
  mapShared(fd, size, writable) {
    const protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
    const address = native().C.mmap(null, size, protection, MAP_SHARED, fd, 0);
    if (address === -1n) fail("mmap", `fd ${fd}, ${size} bytes`);
    // The 5-argument form (context = length, deallocator = munmap) is documented in Bun's
    // ffi docs but missing from the type declarations.
    const wrap = native().ffi.toArrayBuffer as unknown as (
      address: bigint,
      offset: number,
      length: number,
      context: number,
      deallocator: unknown,
    ) => ArrayBuffer;
    return wrap(address, 0, size, size, native().munmap);
  },
  close(fd) {
    check(native().C.close(fd), "close", `fd ${fd}`);
  },
  socketPair(type) {
    const flags = type | SOCK_NONBLOCK | SOCK_CLOEXEC;
    check(native().C.socketpair(AF_UNIX, flags, 0, intPair), "socketpair", `AF_UNIX, ${type}`);
    return [intPair[0] ?? -1, intPair[1] ?? -1];
  },
  socket(type) {
    const flags = type | SOCK_NONBLOCK | SOCK_CLOEXEC;
    return check(native().C.socket(AF_UNIX, flags, 0), "socket", `AF_UNIX, ${type}`);
  },
  bind(fd, path) {
    const length = encodeSockaddr(path);
    check(native().C.bind(fd, sockaddr, length), "bind", `fd ${fd}, "${path}"`);
  },
  listen(fd, backlog) {
    check(native().C.listen(fd, backlog), "listen", `fd ${fd}, ${backlog}`);
  },
  accept(fd) {
    const accepted = native().C.accept4(fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (accepted >= 0) return accepted;
    const code = errno();
    if (code === EAGAIN) return undefined;
    return fail("accept4", `fd ${fd}`, code);
  },
  connect(fd, path) {
    const length = encodeSockaddr(path);
    check(native().C.connect(fd, sockaddr, length), "connect", `fd ${fd}, "${path}"`);
  },
  sendmsg(fd, data, fds) {
    const space = fds.length === 0 ? 0 : controlSpace(fds.length);
    prepareMessage(data, space);
    if (space > 0) {
      control.setBigUint64(0, BigInt(CMSG_HEADER_SIZE + 4 * fds.length), true);
      control.setInt32(8, SOL_SOCKET, true);
      control.setInt32(12, SCM_RIGHTS, true);
      for (const [i, value] of fds.entries()) {
        control.setInt32(CMSG_HEADER_SIZE + 4 * i, value, true);
      }
    }
    const sent = native().C.sendmsg(fd, native().ffi.ptr(msghdr), MSG_DONTWAIT | MSG_NOSIGNAL);
    check(sent, "sendmsg", `fd ${fd}, ${data.byteLength} bytes, fds [${fds.join(", ")}]`);
  },
  recvmsg(fd, buffer, maxFds) {
    prepareMessage(buffer, controlSpace(maxFds));
    const received = native().C.recvmsg(
      fd,
      native().ffi.ptr(msghdr),
      MSG_DONTWAIT | MSG_CMSG_CLOEXEC,
    );
    if (received < 0) {
      const code = errno();
      if (code === EAGAIN) return undefined;
      return fail("recvmsg", `fd ${fd}`, code);
    }
    const controlLength = Number(msghdr.getBigUint64(40, true));
    const flags = msghdr.getInt32(48, true);
    return {
      length: received,
      fds: readReceivedFds(controlLength),
      truncated: (flags & (MSG_TRUNC | MSG_CTRUNC)) !== 0,
    };
  },
  socketType(fd) {
    getIntOption(fd, SO_TYPE, 4, "SO_TYPE");
    return optValue[0] ?? -1;
  },
  peerCredentials(fd) {
    getIntOption(fd, SO_PEERCRED, 12, "SO_PEERCRED");
    return { pid: optValue[0] ?? 0, uid: (optValue[1] ?? 0) >>> 0, gid: (optValue[2] ?? 0) >>> 0 };
  },
  tryLockExclusive(fd) {
    if (native().C.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
    const code = errno();
    if (code === EAGAIN) return false;
    return fail("flock", `fd ${fd}, LOCK_EX | LOCK_NB`, code);
  },

  readable(fds, timeoutMs = 0) {
    if (fds.length === 0) return [];
    // struct pollfd { int fd; short events; short revents; }
    const table = new DataView(new ArrayBuffer(POLLFD_SIZE * fds.length));
    fds.forEach((fd, i) => {
      table.setInt32(i * POLLFD_SIZE, fd, true);
      table.setInt16(i * POLLFD_SIZE + 4, POLLIN, true);
    });
    for (;;) {
      const polled = native().C.poll(
        native().ffi.ptr(new Uint8Array(table.buffer)),
        fds.length,
        timeoutMs,
      );
      if (polled >= 0) break;
      const code = errno();
      if (code !== EINTR) return fail("poll", `${fds.length} fds`, code);
    }
    return fds.map((_, i) => (table.getInt16(i * POLLFD_SIZE + 6, true) & POLLIN) !== 0);
  },
  dropPages(address, length) {
    check(
      native().C.madvise(address, length, MADV_DONTNEED),
      "madvise",
      `0x${address.toString(16)}, ${length} bytes, MADV_DONTNEED`,
    );
  },
};
