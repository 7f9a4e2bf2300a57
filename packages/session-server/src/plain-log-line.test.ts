import { describe, expect, it } from "bun:test";
import fc from "fast-check";
import pino from "pino";
import { plainBindings, plainLogLine } from "./plain-log-line.ts";

const TIME = 1_796_000_000_123;

/** What pino itself writes for `args` at `level`, with the session server's options. */
function pinoLine(level: pino.Level, bindings: Record<string, unknown>, args: unknown[]): string {
  let written = "";
  const logger = pino(
    {
      name: "rialto-session-server",
      level: "trace",
      base: { pid: 4242 },
      timestamp: () => `,"time":${TIME}`,
    },
    {
      write: (line: string) => {
        written += line;
      },
    },
  );
  logger.setBindings(bindings);
  (logger[level] as (...parts: unknown[]) => void)(...args);
  return written;
}

/** {@link plainLogLine} for the same call; undefined when it leaves the line to pino. */
function ourLine(level: pino.Level, bindings: Record<string, unknown>, args: unknown[]) {
  const prefix = plainBindings(bindings);
  if (prefix === undefined) return undefined;
  const number = pino.levels.values[level] ?? 0;
  return plainLogLine(number, TIME, `,"pid":4242,"name":"rialto-session-server"${prefix}`, args);
}

const plainValue = fc.oneof(
  fc.constantFrom("GET", "headers"),
  fc.string({ unit: "binary" }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
/** Objects as callers write them (fast-check's dictionaries have no prototype). */
const plainObject = (maxKeys: number) =>
  fc
    .dictionary(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 8 }),
        fc.constantFrom("method", "headers", "socket"),
      ),
      plainValue,
      { maxKeys },
    )
    .map((dictionary): Record<string, unknown> => ({ ...dictionary }));
const level = fc.constantFrom<pino.Level>("fatal", "error", "warn", "info", "debug", "trace");

describe("plainLogLine", () => {
  it("writes pino's line byte for byte for plain fields and messages", () => {
    let plain = 0;
    fc.assert(
      fc.property(
        level,
        plainObject(3),
        plainObject(5),
        fc.option(fc.string({ unit: "binary" }), { nil: undefined }),
        (at, bindings, fields, message) => {
          const args = message === undefined ? [fields] : [fields, message];
          const ours = ourLine(at, bindings, args);
          if (ours === undefined) return;
          plain++;
          expect(ours).toBe(pinoLine(at, bindings, args));
        },
      ),
      { numRuns: 2000 },
    );
    // Most generated calls were plain, so the comparison ran (not only refusals).
    expect(plain).toBeGreaterThan(1000);
  });

  it("writes a message alone as pino does", () => {
    const line = ourLine("info", { appId: "app-1" }, ["state changed"]);
    expect(line).toBe(pinoLine("info", { appId: "app-1" }, ["state changed"]));
    expect(JSON.parse(line ?? "")).toEqual({
      level: 30,
      time: TIME,
      pid: 4242,
      name: "rialto-session-server",
      appId: "app-1",
      msg: "state changed",
    });
  });

  it("leaves errors, nested objects, printf messages and pino's own keys to pino", () => {
    for (const args of [
      [{ err: new Error("boom") }, "failed"],
      [{ reason: { code: 1 } }, "nested"],
      [{ at: new Date(0) }, "a date"],
      ["%d frames", 3],
      [{ n: 1 }, "100% done"],
      [{ msg: "mine" }, "theirs"],
      [{ level: 1 }, "level"],
      [{ method: "GET", headers: "h", socket: "s" }, "a request"],
      [{ n: Number.NaN }, "not a number"],
      [{ big: 1n }, "a bigint"],
    ]) {
      expect(ourLine("info", {}, args)).toBeUndefined();
    }
    expect(ourLine("info", { nested: { a: 1 } }, ["plain"])).toBeUndefined();
  });
});
