import {
  type AnyMethod,
  type CallOptions,
  describeValue,
  type ParamsOf,
  type ResultOf,
  RialtoError,
  type ShmCallReply,
  ShmPoolMethods,
  withDeadline,
} from "@rialto/protocol";
import type { ShmPool } from "@rialto/shm";

/** Smallest block a pool call takes, so that a modest reply fits where the params were. */
const MIN_BLOCK_CAPACITY = 512;

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** What a {@link PoolInvoker} needs from the client. */
export interface PoolInvokerOptions {
  /** The client's pool (owned by the caller). */
  pool: ShmPool;
  /** Params of more JSON bytes than this go through the pool. */
  inlineLimit: number;
  /** Bound of one pool call in ms (the caller's TIMEOUT). */
  msgTimeoutMs: number;
  /** Pool calls per service that may run at once (exactly this many; the next one is refused). */
  maxConcurrentInvocations: number;
  /**
   * How long past twice `msgTimeoutMs` the server's own late answer is still awaited before its
   * block is withheld for good, ms (default 1000).
   */
  replyGraceMs?: number;
  /** Makes a call over retry-RPC. */
  call<M extends AnyMethod>(
    method: M,
    params: ParamsOf<M>,
    options?: CallOptions,
  ): Promise<ResultOf<M>>;
  /** Hands the pool to the server (fd on the side channel, then `shm/registerPool`): its id. */
  register(pool: ShmPool): Promise<number>;
}

/** Counters of the shared-memory RPC path. */
export interface PoolStats {
  /** Calls whose params went through the pool. */
  poolCalls: number;
  /** Calls sent inline (small params, or too large for the pool). */
  inlineCalls: number;
  /** Pool calls refused at once with TOO_MANY_INVOCATIONS. */
  refused: number;
  /** Pool calls holding a slot now (running, or waiting for the server's late reply), per service. */
  running: Record<string, number>;
  /** Blocks allocated now. */
  blocksInUse: number;
  /** Blocks withheld for good because the server never answered for them. */
  quarantined: number;
}

/**
 * The client side of shared-memory RPC (SPEC 8, remote-service-over-shm): a call whose params
 * exceed the inline limit is written into a block of the client's pool and only a descriptor
 * crosses the socket; the server answers in the same block (or inline). At most
 * `maxConcurrentInvocations` pool calls per service hold a slot; the next one fails at once with
 * TOO_MANY_INVOCATIONS. A caller's TIMEOUT (`msgTimeoutMs`) does not free the block: it is
 * freed when the server's reply for it arrives, or when the server can no longer write it (its
 * connection is gone for good); a block the server never answers for is never reused. Every
 * path gives its slot back once the call is over on both sides.
 */
export class PoolInvoker {
  readonly #options: PoolInvokerOptions;
  readonly #running = new Map<string, number>();
  readonly #quarantined = new Set<number>();
  #poolId: number | undefined;
  #registering: Promise<number> | undefined;
  #epoch = 0;
  #poolCalls = 0;
  #inlineCalls = 0;
  #refused = 0;

  constructor(options: PoolInvokerOptions) {
    this.#options = options;
  }

  /** Calls `method`, through the pool when its params are larger than the inline limit. */
  async invoke<M extends AnyMethod>(
    method: M,
    params: ParamsOf<M>,
    options: CallOptions = {},
  ): Promise<ResultOf<M>> {
    method.params.assert(params, `"${method.name}" params`);
    const pool = this.#options.pool;
    const bytes = encoder.encode(JSON.stringify(params));
    if (bytes.byteLength <= this.#options.inlineLimit || bytes.byteLength > pool.maxAllocation) {
      this.#inlineCalls++;
      return this.#options.call(method, params, options);
    }
    const service = method.name.slice(0, method.name.indexOf("/"));
    const running = this.#running.get(service) ?? 0;
    if (running >= this.#options.maxConcurrentInvocations) {
      this.#refused++;
      throw new RialtoError(
        "TOO_MANY_INVOCATIONS",
        `"${method.name}": ${running} "${service}" pool calls are running (limit ${this.#options.maxConcurrentInvocations})`,
      );
    }
    this.#running.set(service, running + 1);
    let poolId: number;
    let block: Uint8Array | undefined;
    try {
      poolId = await this.#registered();
      const capacity = Math.min(Math.max(bytes.byteLength, MIN_BLOCK_CAPACITY), pool.maxAllocation);
      block = pool.alloc(capacity);
    } catch (error) {
      this.#giveBack(service, undefined, false);
      throw error;
    }
    if (block === undefined) {
      // The pool is full of other calls' blocks: this one goes inline instead.
      this.#giveBack(service, undefined, false);
      this.#inlineCalls++;
      return this.#options.call(method, params, options);
    }
    block.set(bytes);
    this.#poolCalls++;
    return this.#run(method, service, poolId, block, bytes.byteLength, options);
  }

  /**
   * The server forgot this client (it restarted or released it): it can no longer write any
   * block, so withheld blocks are freed, and the pool is registered again on the next call.
   */
  reset(): void {
    this.#epoch++;
    this.#poolId = undefined;
    this.#registering = undefined;
    for (const offset of this.#quarantined) this.#free(offset);
    this.#quarantined.clear();
  }

  /** A copy of the counters. */
  stats(): PoolStats {
    const pool = this.#options.pool;
    return {
      poolCalls: this.#poolCalls,
      inlineCalls: this.#inlineCalls,
      refused: this.#refused,
      running: Object.fromEntries(this.#running),
      blocksInUse: pool.closed ? 0 : pool.blocks().filter((block) => block.allocated).length,
      quarantined: this.#quarantined.size,
    };
  }

  #registered(): Promise<number> {
    if (this.#poolId !== undefined) return Promise.resolve(this.#poolId);
    if (this.#registering === undefined) {
      const epoch = this.#epoch;
      this.#registering = this.#options.register(this.#options.pool).then(
        (poolId) => {
          if (epoch === this.#epoch) this.#poolId = poolId;
          this.#registering = undefined;
          return poolId;
        },
        (error) => {
          this.#registering = undefined;
          throw error;
        },
      );
    }
    return this.#registering;
  }

  #run<M extends AnyMethod>(
    method: M,
    service: string,
    poolId: number,
    block: Uint8Array,
    length: number,
    options: CallOptions,
  ): Promise<ResultOf<M>> {
    const offset = this.#options.pool.offsetOf(block);
    // Long enough for the server's own RIALTO_SHM_MSG_TIMEOUT answer to arrive.
    const serverDeadlineMs = this.#options.msgTimeoutMs * 2 + (this.#options.replyGraceMs ?? 1000);
    const started = performance.now();
    const outcome = this.#options
      .call(
        ShmPoolMethods.call,
        { poolId, offset, length, capacity: block.byteLength, method: method.name },
        { timeoutMs: serverDeadlineMs },
      )
      // The reply is read out of the block before the block can be freed.
      .then((reply) => readReply(method, reply, block));
    outcome.then(
      () => this.#giveBack(service, offset, false),
      (error: RialtoError) => {
        // Our own deadline passed without any word from the server: it may still write.
        const silent =
          error.code === "TIMEOUT" && performance.now() - started >= serverDeadlineMs - 1;
        this.#giveBack(service, offset, silent);
      },
    );
    const ms = options.timeoutMs ?? this.#options.msgTimeoutMs;
    return withDeadline(
      outcome,
      ms,
      () =>
        new RialtoError(
          "TIMEOUT",
          `timeout after ${ms} ms calling "${method.name}" through the shm pool`,
        ),
    );
  }

  #giveBack(service: string, offset: number | undefined, quarantine: boolean): void {
    this.#running.set(service, (this.#running.get(service) ?? 1) - 1);
    if (offset === undefined) return;
    if (quarantine) this.#quarantined.add(offset);
    else this.#free(offset);
  }

  #free(offset: number): void {
    if (!this.#options.pool.closed) this.#options.pool.free(offset);
  }
}

function readReply<M extends AnyMethod>(
  method: M,
  reply: ShmCallReply,
  block: Uint8Array,
): ResultOf<M> {
  let result: unknown;
  if (reply.placement === "inline") {
    result = reply.result;
  } else {
    const offset = block.byteOffset;
    if (reply.offset !== offset || reply.length > block.byteLength) {
      throw new RialtoError(
        "PROTOCOL_ERROR",
        `"${method.name}": the reply names block (offset ${reply.offset}, length ${reply.length}), not the call's (offset ${offset}, capacity ${block.byteLength})`,
      );
    }
    try {
      result = JSON.parse(utf8.decode(block.subarray(0, reply.length)));
    } catch {
      throw new RialtoError(
        "PROTOCOL_ERROR",
        `"${method.name}": the reply in the pool block is not UTF-8 JSON`,
      );
    }
  }
  if (!method.result.check(result)) {
    throw new RialtoError(
      "PROTOCOL_ERROR",
      `"${method.name}" returned an invalid result ${describeValue(result)}`,
    );
  }
  return result as ResultOf<M>;
}
