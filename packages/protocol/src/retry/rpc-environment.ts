import { RialtoError } from "../errors.ts";
import {
  SHM_POOL_DEFAULT_SIZE,
  SHM_POOL_MAX_SIZE,
  SHM_POOL_MIN_SIZE,
} from "../messages/shm-pool.ts";
import { DEFAULT_CALL_TIMEOUT_MS } from "../rpc/rpc-peer.ts";
import { DEFAULT_GRACE_MS } from "./retry-server.ts";

/** Default bound of one shared-memory RPC call, in ms (`RIALTO_SHM_MSG_TIMEOUT`). */
export const DEFAULT_SHM_MSG_TIMEOUT_MS = 30_000;

/** Default limit of concurrent pool calls per client and service. */
export const DEFAULT_SHM_MAX_CONCURRENT_INVOCATIONS = 32;

/**
 * Params larger than this many bytes of JSON travel through the client's shm pool instead of
 * the socket (4096: well below the smallest pool's largest block).
 */
export const DEFAULT_SHM_INLINE_LIMIT = 4096;

/**
 * The RPC settings a client and its session server read from their environment (SPEC 7, 8).
 * Durations are in milliseconds.
 */
export interface RpcEnvironment {
  /** `RIALTO_CLIENT_IPC_TIMEOUT`: default call deadline (default 3000). */
  clientIpcTimeoutMs: number;
  /** `RIALTO_CLIENT_GRACE_MS`: how long a disconnected client's state is kept (default 30000). */
  clientGraceMs: number;
  /** `RIALTO_SHM_POOL_SIZE`: the client's pool in bytes, 8192 .. 64 MiB (default 262144). */
  shmPoolSize: number;
  /** `RIALTO_SHM_MSG_TIMEOUT`: bound of one pool call (default 30000). */
  shmMsgTimeoutMs: number;
  /** `RIALTO_SHM_MAX_CONCURRENT_INVOCATIONS`: pool calls per client and service (default 32). */
  shmMaxConcurrentInvocations: number;
}

function readInteger(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `${name}=${JSON.stringify(text.slice(0, 40))} is not an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/** Reads the {@link RpcEnvironment} from `env`; INVALID_ARGUMENT names a malformed variable. */
export function readRpcEnvironment(
  env: Record<string, string | undefined> = process.env,
): RpcEnvironment {
  const day = 86_400_000;
  return {
    clientIpcTimeoutMs: readInteger(
      env,
      "RIALTO_CLIENT_IPC_TIMEOUT",
      DEFAULT_CALL_TIMEOUT_MS,
      1,
      day,
    ),
    clientGraceMs: readInteger(env, "RIALTO_CLIENT_GRACE_MS", DEFAULT_GRACE_MS, 0, day),
    shmPoolSize: readInteger(
      env,
      "RIALTO_SHM_POOL_SIZE",
      SHM_POOL_DEFAULT_SIZE,
      SHM_POOL_MIN_SIZE,
      SHM_POOL_MAX_SIZE,
    ),
    shmMsgTimeoutMs: readInteger(env, "RIALTO_SHM_MSG_TIMEOUT", DEFAULT_SHM_MSG_TIMEOUT_MS, 1, day),
    shmMaxConcurrentInvocations: readInteger(
      env,
      "RIALTO_SHM_MAX_CONCURRENT_INVOCATIONS",
      DEFAULT_SHM_MAX_CONCURRENT_INVOCATIONS,
      1,
      4096,
    ),
  };
}
