import { dlopen, FFIType } from "bun:ffi";
import { RialtoError } from "@rialto/protocol";

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

// `struct ucred { pid_t pid; uid_t uid; gid_t gid; }`: three 32-bit fields.
const ucred = new Int32Array(3);
const ucredLength = new Uint32Array([ucred.byteLength]);

let getsockopt:
  | ((fd: number, level: number, name: number, value: Int32Array, length: Uint32Array) => number)
  | undefined;

function bind() {
  const library = dlopen("libc.so.6", {
    getsockopt: {
      args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr],
      returns: FFIType.i32,
    },
  });
  return library.symbols.getsockopt as unknown as NonNullable<typeof getsockopt>;
}

/**
 * The effective uid of the process at the other end of the Unix socket `fd` (SO_PEERCRED, as
 * of its connect). @rialto/shm binds the same call but exports it only on its fd channels;
 * this is the one libc call the session server makes itself.
 */
export function peerUid(fd: number): number {
  getsockopt ??= bind();
  ucredLength[0] = ucred.byteLength;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ucred, ucredLength) !== 0) {
    throw new RialtoError("INTERNAL", `getsockopt(fd ${fd}, SO_PEERCRED) failed`);
  }
  return (ucred[1] as number) >>> 0;
}
