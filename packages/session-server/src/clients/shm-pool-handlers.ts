import {
  decodeFdTag,
  RialtoError,
  type ShmCallDescriptor,
  type ShmCallReply,
  ShmPoolMethods,
  toRialtoError,
  withDeadline,
} from "@rialto/protocol";
import { closeFd, type FdRecord, ShmPoolView } from "@rialto/shm";
import type { Client, ClientRouter, ClientsContext } from "./clients-context.ts";

/** Services whose methods cannot run through the pool (connection control, the pool itself). */
const NOT_THROUGH_THE_POOL = new Set(["session", "shm"]);

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * Shared-memory RPC (SPEC 8), server side: `shm/registerPool` maps the client's pool memfd
 * (taken from its fd side channel); `shm/call` checks a descriptor's bounds against the pool's
 * real size, runs the named method with the params read from the block, and writes the result
 * back into the same block, or replies inline when it does not fit. At most
 * `shmMaxConcurrentInvocations` pool calls per client and service run at once
 * (TOO_MANY_INVOCATIONS beyond); a call running longer than `shmMsgTimeoutMs` fails with
 * TIMEOUT and never touches its block afterwards.
 */
export function addShmPoolHandlers(router: ClientRouter, context: ClientsContext): ClientRouter {
  return router
    .handle(ShmPoolMethods.registerPool, ({ size, fdTag }, client) => {
      const fd = takeTaggedFd(client, fdTag);
      let view: ShmPoolView;
      try {
        view = ShmPoolView.fromFd(fd, { expectedSize: size });
      } catch (error) {
        throw new RialtoError(
          "INVALID_ARGUMENT",
          `"${ShmPoolMethods.registerPool.name}": the pool memfd of client ${client.id} is unusable: ${toRialtoError(error).message}`,
          { cause: error },
        );
      }
      const pool = client.session.replacePool(view);
      context.logger.info({ clientId: client.id, poolId: pool.id, size }, "shm pool registered");
      return { poolId: pool.id };
    })
    .handle(ShmPoolMethods.call, (descriptor, client) =>
      runPoolCall(router, context, descriptor, client),
    );
}

/** Takes the next side-channel record and checks it carries one fd tagged `fdTag`. */
function takeTaggedFd(client: Client, fdTag: number): number {
  const channel = client.session.fdChannel;
  if (channel === undefined) {
    throw new RialtoError(
      "INVALID_STATE",
      `"${ShmPoolMethods.registerPool.name}": client ${client.id} registered without an fdToken, so it cannot pass a pool`,
    );
  }
  let record: FdRecord | undefined;
  try {
    record = channel.receive();
  } catch (error) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${ShmPoolMethods.registerPool.name}": reading the side channel failed: ${toRialtoError(error).message}`,
      { cause: error },
    );
  }
  if (record === undefined) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${ShmPoolMethods.registerPool.name}": no side-channel record tagged ${fdTag} was sent first`,
    );
  }
  const tag = record.data.byteLength === 4 ? decodeFdTag(record.data) : undefined;
  if (tag !== fdTag || record.fds.length !== 1) {
    for (const fd of record.fds) closeFd(fd);
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${ShmPoolMethods.registerPool.name}": the side-channel record (tag ${tag}, ${record.fds.length} fds) is not one fd tagged ${fdTag}`,
    );
  }
  return record.fds[0] as number;
}

async function runPoolCall(
  router: ClientRouter,
  context: ClientsContext,
  descriptor: ShmCallDescriptor,
  client: Client,
): Promise<ShmCallReply> {
  const { poolId, offset, length, capacity, method } = descriptor;
  const state = client.session;
  const pool = state.pool;
  if (pool === undefined || pool.id !== poolId) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${ShmPoolMethods.call.name}": pool ${poolId} is not the pool client ${client.id} registered`,
    );
  }
  if (length > capacity) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${ShmPoolMethods.call.name}": length ${length} exceeds the block capacity ${capacity}`,
    );
  }
  let block: Uint8Array;
  try {
    block = pool.view.block(offset, capacity);
  } catch {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${ShmPoolMethods.call.name}": block (offset ${offset}, capacity ${capacity}) lies outside pool ${poolId} of ${pool.view.size} bytes`,
    );
  }
  const service = method.slice(0, method.indexOf("/"));
  if (NOT_THROUGH_THE_POOL.has(service)) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${ShmPoolMethods.call.name}": "${method}" cannot run through the pool`,
    );
  }
  if (!router.has(method)) {
    throw new RialtoError(
      "UNKNOWN_METHOD",
      `"${ShmPoolMethods.call.name}": unknown method "${method}"`,
    );
  }
  const running = state.shmCallsRunning.get(service) ?? 0;
  if (running >= context.shmMaxConcurrentInvocations) {
    throw new RialtoError(
      "TOO_MANY_INVOCATIONS",
      `"${ShmPoolMethods.call.name}": client ${client.id} already runs ${running} "${service}" pool calls (limit ${context.shmMaxConcurrentInvocations})`,
    );
  }
  let params: unknown;
  try {
    params = JSON.parse(utf8.decode(block.subarray(0, length)));
  } catch {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `"${ShmPoolMethods.call.name}": the ${length} bytes at offset ${offset} are not UTF-8 JSON`,
    );
  }
  state.shmCallsRunning.set(service, running + 1);
  try {
    const ms = context.shmMsgTimeoutMs;
    const response = await withDeadline(
      Promise.resolve(router.dispatch({ id: 1, method, params }, client)),
      ms,
      () =>
        new RialtoError(
          "TIMEOUT",
          `"${ShmPoolMethods.call.name}": "${method}" took longer than ${ms} ms`,
          {
            details: { timeoutMs: ms },
          },
        ),
    );
    if (response.error !== undefined) throw RialtoError.fromWire(response.error);
    const bytes = encoder.encode(JSON.stringify(response.result));
    // The pool may have been replaced or unmapped while the call ran.
    if (bytes.byteLength <= capacity && state.pool === pool && !pool.view.closed) {
      pool.view.block(offset, bytes.byteLength).set(bytes);
      return { placement: "block", offset, length: bytes.byteLength };
    }
    return { placement: "inline", result: response.result };
  } finally {
    state.shmCallsRunning.set(service, (state.shmCallsRunning.get(service) ?? 1) - 1);
  }
}
