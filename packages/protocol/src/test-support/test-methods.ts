import Type from "typebox";
import { RialtoError } from "../errors.ts";
import { defineEvent, defineMethod } from "../rpc/descriptor.ts";
import { MethodRouter } from "../rpc/method-router.ts";
import type { RpcPeer } from "../rpc/rpc-peer.ts";

/** Methods and events used by the protocol's own tests and the RPC benchmark. */
export const TestMethods = {
  echo: defineMethod(
    "test/echo",
    Type.Object({ text: Type.String({ maxLength: 2 * 1024 * 1024 }) }),
    Type.Object({ text: Type.String() }),
  ),
  fail: defineMethod(
    "test/fail",
    Type.Object({ code: Type.String(), message: Type.String() }),
    Type.Object({}),
  ),
  sleep: defineMethod(
    "test/sleep",
    Type.Object({ ms: Type.Integer({ minimum: 0 }) }),
    Type.Object({ ms: Type.Integer() }),
  ),
  blob: defineMethod(
    "test/blob",
    Type.Object({ bytes: Type.Integer({ minimum: 0 }) }),
    Type.Object({ text: Type.String() }),
  ),
  badResult: defineMethod("test/badResult", Type.Object({}), Type.Object({ n: Type.Integer() })),
  missing: defineMethod("test/missing", Type.Object({}), Type.Object({})),
  /** Asks the server to send `count` `test/tick` events (n = 1 .. count) to the caller. */
  emitTicks: defineMethod(
    "test/emitTicks",
    Type.Object({ count: Type.Integer({ minimum: 0, maximum: 100_000 }) }),
    Type.Object({}),
  ),
  tick: defineEvent("test/tick", Type.Object({ n: Type.Integer() })),
  /** Wedges the render loop of every pipeline of the session server (health-check tests). */
  stallRenderLoop: defineMethod("test/stallRenderLoop", Type.Object({}), Type.Object({})),
};

/** A router implementing {@link TestMethods}; `test/echo` also emits a tick back. */
export function createTestRouter(): MethodRouter<RpcPeer<unknown>> {
  return (
    new MethodRouter<RpcPeer<unknown>>()
      .handle(TestMethods.echo, ({ text }) => ({ text }))
      .handle(TestMethods.fail, ({ code, message }) => {
        throw new RialtoError(code as "INVALID_STATE", message);
      })
      .handle(TestMethods.sleep, async ({ ms }) => {
        await Bun.sleep(ms);
        return { ms };
      })
      .handle(TestMethods.blob, ({ bytes }) => ({ text: "x".repeat(bytes) }))
      // biome-ignore lint/suspicious/noExplicitAny: deliberately breaks the result schema
      .handle(TestMethods.badResult, () => ({ n: "not a number" }) as any)
  );
}
