import Type, { type Static } from "typebox";
import { describeValue } from "./describe-value.ts";

export { DESCRIBE_MAX_DEPTH, DESCRIBE_MAX_LENGTH, describeValue } from "./describe-value.ts";

/** Every error code of the system (SPEC section 10), shared by every package and carried on the wire. */
export const ERROR_CODES = [
  "INVALID_ARGUMENT",
  "INVALID_STATE",
  "UNKNOWN_APP",
  "APP_EXISTS",
  "RESOURCE_EXHAUSTED",
  "TIMEOUT",
  "CONNECTION_LOST",
  "TOO_MANY_INVOCATIONS",
  "UNKNOWN_METHOD",
  "PROTOCOL_ERROR",
  "INCOMPATIBLE_VERSION",
  "UNKNOWN_CLIENT",
  "PERMISSION_DENIED",
  "SPAWN_FAILED",
  "NOT_FOUND",
  "INTERNAL",
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The wire form of an error: code, message and optional structured details. */
export const WireError = Type.Object({
  code: Type.Enum(ERROR_CODES),
  message: Type.String({ maxLength: 4096 }),
  details: Type.Optional(Type.Unknown()),
});
export type WireError = Static<typeof WireError>;

/** The one error type of the system: a {@link ErrorCode} plus a message naming the offending value. */
export class RialtoError extends Error {
  override readonly name = "RialtoError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.details !== undefined) this.details = options.details;
  }

  /** Structured extra facts (e.g. the limit that was hit); carried on the wire. */
  details?: unknown;

  /** The error as it travels in a reply frame. */
  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds an error received from a peer. */
  static fromWire(wire: WireError): RialtoError {
    return new RialtoError(wire.code, wire.message, { details: wire.details });
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `value` is one of {@link ERROR_CODES}. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && KNOWN_CODES.has(value);
}

/**
 * The one table from `@rialto/shm`'s error codes (`ShmError.code`) to {@link ErrorCode}s, applied
 * by {@link toRialtoError} at every package boundary (protocol does not depend on shm: the shm
 * error is recognised by its name, and a test in @rialto/client checks that the table covers
 * every code). An `ERRNO` failure maps by its errno ({@link SHM_ERRNO_CODES}), else `INTERNAL`.
 */
export const SHM_ERROR_CODE_MAP: Readonly<Record<string, ErrorCode>> = Object.freeze({
  ERRNO: "INTERNAL",
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  CLOSED: "INVALID_STATE",
  PEER_CLOSED: "CONNECTION_LOST",
  BAD_RECORD: "PROTOCOL_ERROR",
  ADDRESS_IN_USE: "INVALID_STATE",
  NOT_SEALED: "PROTOCOL_ERROR",
  BAD_POOL: "PROTOCOL_ERROR",
  INVALID_FREE: "INVALID_ARGUMENT",
  OUT_OF_BOUNDS: "INVALID_ARGUMENT",
  BAD_METADATA: "INVALID_ARGUMENT",
  UNSUPPORTED_VERSION: "INCOMPATIBLE_VERSION",
});

/** The errnos of a shm `ERRNO` failure that say more than `INTERNAL`. */
export const SHM_ERRNO_CODES: Readonly<Record<string, ErrorCode>> = Object.freeze({
  EMFILE: "RESOURCE_EXHAUSTED",
  ENFILE: "RESOURCE_EXHAUSTED",
  ENOMEM: "RESOURCE_EXHAUSTED",
  ENOSPC: "RESOURCE_EXHAUSTED",
  EPERM: "PERMISSION_DENIED",
  EACCES: "PERMISSION_DENIED",
  EPIPE: "CONNECTION_LOST",
  ECONNRESET: "CONNECTION_LOST",
  ECONNREFUSED: "CONNECTION_LOST",
});

function fromShmError(error: Error): RialtoError {
  const { code, errno } = error as Error & { code?: string; errno?: string };
  const mapped =
    (code === "ERRNO" && errno !== undefined ? SHM_ERRNO_CODES[errno] : undefined) ??
    SHM_ERROR_CODE_MAP[code ?? ""] ??
    "INTERNAL";
  return new RialtoError(mapped, error.message, {
    cause: error,
    details: errno === undefined ? { shmCode: code } : { shmCode: code, errno },
  });
}

/**
 * Normalises anything thrown into a {@link RialtoError}: RialtoErrors pass through, a `ShmError`
 * maps by {@link SHM_ERROR_CODE_MAP}, objects with a known `code` keep it, everything else becomes
 * `INTERNAL` with the original kept as `cause`.
 */
export function toRialtoError(error: unknown): RialtoError {
  if (error instanceof RialtoError) return error;
  if (error instanceof Error && error.name === "ShmError") return fromShmError(error);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return new RialtoError(isErrorCode(code) ? code : "INTERNAL", error.message, { cause: error });
  }
  return new RialtoError("INTERNAL", `non-error thrown: ${describeValue(error)}`, {
    cause: error,
  });
}
