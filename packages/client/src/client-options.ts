import {
  DEFAULT_SHM_INLINE_LIMIT,
  type ReconnectPolicy,
  RialtoError,
  readRpcEnvironment,
} from "@rialto/protocol";

/** Default of {@link RialtoClientOptions.connectRetryMs}, ms. */
export const DEFAULT_CONNECT_RETRY_MS = 2000;

/** Options of `RialtoClient.connect`. */
export interface RialtoClientOptions {
  /** The session server's client socket (default: `RIALTO_SOCKET_PATH`). */
  socketPath?: string;
  /**
   * How long `connect` keeps retrying while nothing listens on the socket yet (the session
   * server is still starting), ms (default 2000; 0: fail at once).
   */
  connectRetryMs?: number;
  /** Default call deadline in ms (default: `RIALTO_CLIENT_IPC_TIMEOUT`, else 3000). */
  timeoutMs?: number;
  /** Size of the shared-memory RPC pool in bytes (default: `RIALTO_SHM_POOL_SIZE`, else 262144). */
  shmPoolSize?: number;
  /** Bound of one pool call in ms (default: `RIALTO_SHM_MSG_TIMEOUT`, else 30000). */
  shmMsgTimeoutMs?: number;
  /** Concurrent pool calls per service (default: `RIALTO_SHM_MAX_CONCURRENT_INVOCATIONS`, else 32). */
  shmMaxConcurrentInvocations?: number;
  /** Params of more JSON bytes than this go through the pool (default 4096). */
  shmInlineLimit?: number;
  /** Redial schedule after a lost connection (default: at once, then 100 ms doubling, 8 retries). */
  reconnect?: Partial<ReconnectPolicy>;
  /** Where the `RIALTO_*` defaults come from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** {@link RialtoClientOptions} with every default applied. */
export interface ResolvedClientOptions {
  socketPath: string;
  connectRetryMs: number;
  timeoutMs: number;
  shmPoolSize: number;
  shmMsgTimeoutMs: number;
  shmMaxConcurrentInvocations: number;
  shmInlineLimit: number;
  reconnect: Partial<ReconnectPolicy> | undefined;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `RialtoClient.connect: ${name} must be a positive integer, got ${value}`,
    );
  }
  return value;
}

/** Applies the environment and the defaults; INVALID_ARGUMENT names the offending option. */
export function resolveClientOptions(options: RialtoClientOptions = {}): ResolvedClientOptions {
  const env = options.env ?? process.env;
  const fromEnv = readRpcEnvironment(env);
  const socketPath = options.socketPath ?? env.RIALTO_SOCKET_PATH;
  if (socketPath === undefined || socketPath === "") {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      "RialtoClient.connect: no socketPath given and RIALTO_SOCKET_PATH is not set",
    );
  }
  const shmPoolSize = positiveInteger("shmPoolSize", options.shmPoolSize ?? fromEnv.shmPoolSize);
  if (shmPoolSize < 8192) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `RialtoClient.connect: shmPoolSize must be at least 8192 bytes, got ${shmPoolSize}`,
    );
  }
  const connectRetryMs = options.connectRetryMs ?? DEFAULT_CONNECT_RETRY_MS;
  if (!Number.isSafeInteger(connectRetryMs) || connectRetryMs < 0) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `RialtoClient.connect: connectRetryMs must be a non-negative integer, got ${connectRetryMs}`,
    );
  }
  return {
    socketPath,
    connectRetryMs,
    timeoutMs: positiveInteger("timeoutMs", options.timeoutMs ?? fromEnv.clientIpcTimeoutMs),
    shmPoolSize,
    shmMsgTimeoutMs: positiveInteger(
      "shmMsgTimeoutMs",
      options.shmMsgTimeoutMs ?? fromEnv.shmMsgTimeoutMs,
    ),
    shmMaxConcurrentInvocations: positiveInteger(
      "shmMaxConcurrentInvocations",
      options.shmMaxConcurrentInvocations ?? fromEnv.shmMaxConcurrentInvocations,
    ),
    shmInlineLimit: positiveInteger(
      "shmInlineLimit",
      options.shmInlineLimit ?? DEFAULT_SHM_INLINE_LIMIT,
    ),
    reconnect: options.reconnect,
  };
}
