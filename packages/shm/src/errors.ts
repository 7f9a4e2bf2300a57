/**
 * Every failure this package reports. Role packages map these codes to their own error type.
 *
 * - `ERRNO`: a system call failed; {@link ShmError.errno} names the errno (e.g. `"EPERM"`).
 * - `INVALID_ARGUMENT`: a caller passed a value outside its documented range.
 * - `CLOSED`: the object was used after it was closed or disposed.
 * - `PEER_CLOSED`: the other end of an fd channel has gone away.
 * - `BAD_RECORD`: an fd-channel record had the wrong shape (too long, too many fds, bad header).
 * - `ADDRESS_IN_USE`: a listener path is in use by a live listener or is not a socket.
 * - `NOT_SEALED`: a memfd received from a peer lacks the seals this side requires.
 * - `BAD_POOL`: a shared-memory pool header or block chain is not what this version writes.
 * - `INVALID_FREE`: `free()` got an offset that is not an allocated block (double free included).
 * - `OUT_OF_BOUNDS`: an (offset, length) pair does not lie inside the memory it names.
 * - `BAD_METADATA`: a frame-metadata table is malformed.
 * - `UNSUPPORTED_VERSION`: a frame-metadata table or pool has a version this code cannot read.
 */
export const SHM_ERROR_CODES = [
  "ERRNO",
  "INVALID_ARGUMENT",
  "CLOSED",
  "PEER_CLOSED",
  "BAD_RECORD",
  "ADDRESS_IN_USE",
  "NOT_SEALED",
  "BAD_POOL",
  "INVALID_FREE",
  "OUT_OF_BOUNDS",
  "BAD_METADATA",
  "UNSUPPORTED_VERSION",
] as const;

/** One of {@link SHM_ERROR_CODES}. */
export type ShmErrorCode = (typeof SHM_ERROR_CODES)[number];

/** Details carried by an `ERRNO` error. */
export interface ErrnoDetails {
  /** Symbolic errno name, e.g. `"EPERM"`, or `"E<number>"` when the name is unknown. */
  readonly errno: string;
  /** The failing system call, e.g. `"ftruncate"`. */
  readonly syscall: string;
}

/** The typed error of `@rialto/shm`. Messages name the operation and the offending value. */
export class ShmError extends Error {
  override readonly name = "ShmError";
  /** What kind of failure this is; stable, meant for mapping to other error types. */
  readonly code: ShmErrorCode;
  /** Symbolic errno name for `ERRNO` errors (e.g. `"EPERM"`), otherwise `undefined`. */
  readonly errno: string | undefined;
  /** The failing system call for `ERRNO` errors, otherwise `undefined`. */
  readonly syscall: string | undefined;

  /**
   * @param code - the failure kind
   * @param message - a sentence naming the operation and the offending value
   * @param errno - errno name and system call, for `ERRNO` errors only
   */
  constructor(code: ShmErrorCode, message: string, errno?: ErrnoDetails) {
    super(`[shm] ${message}`);
    this.code = code;
    this.errno = errno?.errno;
    this.syscall = errno?.syscall;
  }
}
