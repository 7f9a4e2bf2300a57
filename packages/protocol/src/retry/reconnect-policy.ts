import { RialtoError } from "../errors.ts";

/** How a retry-RPC client redials after losing its connection. */
export interface ReconnectPolicy {
  /** Wait before the second attempt, in ms; doubled before each further one (default 100). */
  initialDelayMs: number;
  /** Longest wait between two attempts, in ms (default 12800). */
  maxDelayMs: number;
  /** Attempts after the immediate first one before giving up (default 8: about 25 s in all). */
  maxRetries: number;
}

/** The retry-RPC design's schedule: at once, then 100 ms doubling, 8 retries (~25.5 s). */
export const DEFAULT_RECONNECT_POLICY: Readonly<ReconnectPolicy> = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 12_800,
  maxRetries: 8,
});

/** Fills a partial policy with the defaults; throws INVALID_ARGUMENT on a value out of range. */
export function resolveReconnectPolicy(policy: Partial<ReconnectPolicy> = {}): ReconnectPolicy {
  const resolved = { ...DEFAULT_RECONNECT_POLICY, ...policy };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RialtoError(
        "INVALID_ARGUMENT",
        `reconnect policy ${name} must be a non-negative integer, got ${value}`,
      );
    }
  }
  return resolved;
}

/** The wait before attempt `attempt` (0 is the immediate first attempt), in ms. */
export function reconnectDelay(policy: ReconnectPolicy, attempt: number): number {
  if (attempt <= 0) return 0;
  return Math.min(policy.initialDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
}
