import { RialtoError } from "../errors.ts";

/**
 * What one local peer may cost a server (SPEC 11: a misbehaving client cannot stall the server
 * or other clients). The defaults suit a TV: a handful of clients per app, megabytes not
 * hundreds of megabytes. Worst-case memory for client connections is about
 * `maxConnections × (maxFrameLength × 2 + pauseReadingAboveBytes)`, bounded again by
 * `maxTotalBufferedBytes` for output; see the session server's README.
 */
export interface ConnectionLimits {
  /** Open connections, registered or not (`RIALTO_MAX_CONNECTIONS`, default 32). */
  maxConnections: number;
  /** Registered clients, connected or within their grace period (`RIALTO_MAX_CLIENTS`, default 32). */
  maxClients: number;
  /** Time from accept to a completed `session/register`, ms (`RIALTO_REGISTRATION_TIMEOUT_MS`, default 5000). */
  registrationTimeoutMs: number;
  /** Time a started frame may stay incomplete, ms (`RIALTO_FRAME_TIMEOUT_MS`, default 10000). */
  frameTimeoutMs: number;
  /** Largest frame body before registration, bytes (`RIALTO_MAX_UNREGISTERED_FRAME`, default 16384). */
  maxUnregisteredFrameLength: number;
  /** Failed resumes (unknown id or wrong secret) before the connection is closed (default 3). */
  maxFailedResumes: number;
  /** Output queued for one peer before it is cut off, bytes (`RIALTO_MAX_OUTPUT_PER_CONNECTION`, default 4 MiB). */
  maxBufferedBytes: number;
  /** Output queued for one peer above which its input is no longer read, bytes (default 256 KiB). */
  pauseReadingAboveBytes: number;
  /** Output queued for all peers together before the worst reader is cut off (`RIALTO_MAX_OUTPUT_TOTAL`, default 16 MiB). */
  maxTotalBufferedBytes: number;
  /** CPU ms one peer's input may take before it waits a turn of the event loop (`RIALTO_YIELD_AFTER_MS`, default 1). */
  yieldAfterMs: number;
  /** Time a peer may leave queued output unread before it is cut off, ms (`RIALTO_WRITE_STALL_TIMEOUT_MS`, default 10000). */
  writeStallTimeoutMs: number;
}

/** The defaults of {@link ConnectionLimits}. */
export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  maxConnections: 32,
  maxClients: 32,
  registrationTimeoutMs: 5000,
  frameTimeoutMs: 10_000,
  maxUnregisteredFrameLength: 16 * 1024,
  maxFailedResumes: 3,
  maxBufferedBytes: 4 * 1024 * 1024,
  pauseReadingAboveBytes: 256 * 1024,
  maxTotalBufferedBytes: 16 * 1024 * 1024,
  yieldAfterMs: 1,
  writeStallTimeoutMs: 10_000,
});

const VARIABLES: Record<keyof ConnectionLimits, [name: string, min: number, max: number]> = {
  maxConnections: ["RIALTO_MAX_CONNECTIONS", 1, 4096],
  maxClients: ["RIALTO_MAX_CLIENTS", 1, 4096],
  registrationTimeoutMs: ["RIALTO_REGISTRATION_TIMEOUT_MS", 1, 600_000],
  frameTimeoutMs: ["RIALTO_FRAME_TIMEOUT_MS", 1, 600_000],
  maxUnregisteredFrameLength: ["RIALTO_MAX_UNREGISTERED_FRAME", 1024, 1024 * 1024],
  maxFailedResumes: ["RIALTO_MAX_FAILED_RESUMES", 1, 1000],
  maxBufferedBytes: ["RIALTO_MAX_OUTPUT_PER_CONNECTION", 64 * 1024, 1024 * 1024 * 1024],
  pauseReadingAboveBytes: ["RIALTO_PAUSE_READING_ABOVE", 4096, 1024 * 1024 * 1024],
  maxTotalBufferedBytes: ["RIALTO_MAX_OUTPUT_TOTAL", 64 * 1024, 4 * 1024 * 1024 * 1024],
  yieldAfterMs: ["RIALTO_YIELD_AFTER_MS", 1, 1000],
  writeStallTimeoutMs: ["RIALTO_WRITE_STALL_TIMEOUT_MS", 100, 600_000],
};

/**
 * Reads {@link ConnectionLimits} from `env` (variables named on each field), defaults for the
 * absent ones; INVALID_ARGUMENT names a malformed or out-of-range variable.
 */
export function readConnectionLimits(
  env: Record<string, string | undefined> = process.env,
): ConnectionLimits {
  const limits = { ...DEFAULT_CONNECTION_LIMITS };
  for (const [key, [name, min, max]] of Object.entries(VARIABLES)) {
    const text = env[name];
    if (text === undefined || text === "") continue;
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `${name}=${JSON.stringify(text.slice(0, 40))} is not an integer from ${min} to ${max}`,
      );
    }
    limits[key as keyof ConnectionLimits] = value;
  }
  return limits;
}
