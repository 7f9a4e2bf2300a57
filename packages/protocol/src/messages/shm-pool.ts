import Type, { type Static } from "typebox";
import { defineMethod } from "../rpc/descriptor.ts";
import { Closed, Handle, ShmLength, ShmOffset, WireName } from "./primitives.ts";
import { FdTag } from "./session.ts";

/**
 * Shared-memory RPC (SPEC 8, the remote-service-over-shm design): each client owns one pool
 * (a memfd passed once to its session server). A call whose payload exceeds the inline limit is
 * written into a block of the pool; only a {@link ShmCallDescriptor} crosses the socket. The
 * server checks the bounds, runs the named method, and writes the response into the same block
 * (or replies inline when it does not fit). The client frees the block once the reply arrived.
 */

/** Smallest pool: 8192 bytes (the allocator's control block must fit). */
export const SHM_POOL_MIN_SIZE = 8192;

/** Default pool size (`RIALTO_SHM_POOL_SIZE`): 262144 bytes (256 KiB). */
export const SHM_POOL_DEFAULT_SIZE = 262_144;

/** Largest pool: 1 GiB (the pool's own layout limit). */
export const SHM_POOL_MAX_SIZE = 1024 * 1024 * 1024;

/** A pool id, assigned by the session server when the pool is registered. */
export const PoolId = Handle;
export type PoolId = Static<typeof PoolId>;

/** Registers the client's pool; its memfd is sent on the fd side channel tagged `fdTag`. */
export const RegisterPoolParams = Closed({
  /** Pool size in bytes: 8192 .. 1 GiB; default 262144. */
  size: Type.Integer({ minimum: SHM_POOL_MIN_SIZE, maximum: SHM_POOL_MAX_SIZE }),
  /** Tag of the side-channel message that carries the pool's memfd. */
  fdTag: FdTag,
});
export type RegisterPoolParams = Static<typeof RegisterPoolParams>;

/** The answer to {@link RegisterPoolParams}. */
export const RegisterPoolResult = Closed({ poolId: PoolId });
export type RegisterPoolResult = Static<typeof RegisterPoolResult>;

/**
 * A call whose params (UTF-8 JSON, validated against `method`'s params schema) lie in the pool
 * block `[offset, offset + length)`. The server rejects a block outside the pool with
 * `INVALID_ARGUMENT`, and a 33rd concurrent call of one client to one service with
 * `TOO_MANY_INVOCATIONS`.
 */
export const ShmCallDescriptor = Closed({
  poolId: PoolId,
  /** Start of the block in bytes from the start of the pool. */
  offset: ShmOffset,
  /** Length of the request payload in bytes (at least 2: `{}`). */
  length: Type.Integer({ minimum: 2, maximum: SHM_POOL_MAX_SIZE }),
  /** Capacity of the block in bytes (>= length): how much room the response may use. */
  capacity: Type.Integer({ minimum: 2, maximum: SHM_POOL_MAX_SIZE }),
  /** The method to run, e.g. `keys/updateSession`. */
  method: WireName,
});
export type ShmCallDescriptor = Static<typeof ShmCallDescriptor>;

/** The response (UTF-8 JSON) was written into the request's block, at `[offset, offset + length)`. */
export const ShmReplyInBlock = Closed({
  placement: Type.Literal("block"),
  offset: ShmOffset,
  length: ShmLength,
});
export type ShmReplyInBlock = Static<typeof ShmReplyInBlock>;

/**
 * The response did not fit the block and travels here; the caller validates `result` against
 * the result schema of the method it called.
 */
export const ShmReplyInline = Closed({
  placement: Type.Literal("inline"),
  result: Type.Unknown(),
});
export type ShmReplyInline = Static<typeof ShmReplyInline>;

/** The reply to a {@link ShmCallDescriptor}; errors come back as ordinary error replies. */
export const ShmCallReply = Type.Union([ShmReplyInBlock, ShmReplyInline]);
export type ShmCallReply = Static<typeof ShmCallReply>;

/** Methods of the shared-memory RPC pool (client → session server). */
export const ShmPoolMethods = {
  /** Registers the client's pool (once per connection). */
  registerPool: defineMethod("shm/registerPool", RegisterPoolParams, RegisterPoolResult),
  /** Runs a method whose payload lives in a pool block. */
  call: defineMethod("shm/call", ShmCallDescriptor, ShmCallReply),
} as const;
