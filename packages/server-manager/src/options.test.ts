import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { RialtoError } from "@rialto/protocol";
import { resolveOptions } from "./options.ts";
import { defaultRuntimeDir, ensureRuntimeDir, resolveSocketPath } from "./runtime-dir.ts";
import { ServerManager } from "./server-manager.ts";
import { SESSION_SERVER_LAYOUT } from "./session-server-command.ts";

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(RialtoError);
    expect((error as RialtoError).code).toBe("INVALID_ARGUMENT");
    return (error as Error).message;
  }
  throw new Error("expected INVALID_ARGUMENT");
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("ServerManager options", () => {
  it("applies the defaults of SPEC 3.1", () => {
    const options = resolveOptions({ runtimeDir: "/tmp/x", env: {} });
    expect(options).toMatchObject({
      readyTimeoutMs: 1000,
      healthCheckIntervalMs: 5000,
      failedPingsBeforeRecovery: 3,
      restartOnFailure: true,
      preloadedServers: 0,
      socketPermissions: 0o660,
      logLevel: "info",
      transitionTimeoutMs: 5000,
      stopTimeoutMs: 2000,
    });
    expect(options.sessionServerCommand[0]).toBe(process.execPath);
    // An addition to SPEC 3.1: Inactive apps with no client are parked after a minute; 0: never.
    expect(options.parkInactiveAfterMs).toBe(60_000);
    expect(resolveOptions({ parkInactiveAfterMs: 0, env: {} }).parkInactiveAfterMs).toBe(0);
    expect([SESSION_SERVER_LAYOUT.main, SESSION_SERVER_LAYOUT.built]).toContain(
      options.sessionServerCommand[1] as string,
    );
  });

  it("rejects bad options up front with exact messages", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ readyTimeoutMs: -5 }, "readyTimeoutMs must be an integer 1 .. 600000 (ms), got -5"],
      [{ readyTimeoutMs: 1.5 }, "readyTimeoutMs must be an integer 1 .. 600000 (ms), got 1.5"],
      [
        { healthCheckIntervalMs: 5 },
        "healthCheckIntervalMs must be 0 (off) or an integer 10 .. 3600000 (ms), got 5",
      ],
      [
        { failedPingsBeforeRecovery: 0 },
        "failedPingsBeforeRecovery must be an integer 1 .. 100, got 0",
      ],
      [{ restartOnFailure: "yes" }, 'restartOnFailure must be a boolean, got "yes"'],
      [{ preloadedServers: 17 }, "preloadedServers must be an integer 0 .. 16, got 17"],
      [{ socketPermissions: 0o1777 }, "socketPermissions must be an integer 0 .. 511, got 1023"],
      [
        { sessionServerCommand: [] },
        "sessionServerCommand must be a non-empty array of at most 256 non-empty strings, got []",
      ],
      [
        { logLevel: "loud" },
        'logLevel must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      ],
      [{ logger: {} }, "logger must be a pino logger, got {}"],
      [{ env: "PATH=/bin" }, 'env must be an object of strings, got "PATH=/bin"'],
      [
        { runtimeDir: "relative/dir" },
        'runtimeDir must be an absolute path of at most 80 bytes, got "relative/dir"',
      ],
      [
        { parkInactiveAfterMs: 5 },
        "parkInactiveAfterMs must be 0 (never) or an integer 10 .. 3600000 (ms), got 5",
      ],
      [{ readyTimeout: 5 }, 'unknown option "readyTimeout"'],
    ];
    for (const [options, message] of cases) {
      expect(messageOf(() => new ServerManager(options))).toBe(`new ServerManager: ${message}`);
    }
  });
});

describe("runtime dir and socket names", () => {
  it("defaults to $XDG_RUNTIME_DIR/rialto, else /tmp/rialto-<uid>", () => {
    expect(defaultRuntimeDir({ XDG_RUNTIME_DIR: "/run/user/1000/" })).toBe("/run/user/1000/rialto");
    expect(defaultRuntimeDir({})).toBe(`/tmp/rialto-${process.getuid?.()}`);
  });

  it("creates the runtime dir 0700 and tightens a looser one", () => {
    const parent = mkdtempSync("/tmp/rsm-dir-");
    dirs.push(parent);
    const dir = `${parent}/a/rialto`;
    ensureRuntimeDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    ensureRuntimeDir(parent);
    expect(statSync(parent).mode & 0o777).toBe(0o700);
  });

  it("names sockets: generated and unique, relative to the runtime dir, or absolute as given", () => {
    const a = resolveSocketPath("/run/rialto", "app1");
    const b = resolveSocketPath("/run/rialto", "app1");
    expect(a).toMatch(/^\/run\/rialto\/app1-[0-9a-f]{8}\.sock$/);
    expect(a).not.toBe(b);
    expect(resolveSocketPath("/run/rialto", "app1", "yt.sock")).toBe("/run/rialto/yt.sock");
    expect(resolveSocketPath("/run/rialto", "app1", "/var/run/yt.sock")).toBe("/var/run/yt.sock");
    const longId = "a".repeat(64);
    expect(resolveSocketPath(`/${"d".repeat(60)}`, longId)).toMatch(/\/s-[0-9a-f]{16}\.sock$/);
    expect(() => resolveSocketPath("/run", "x", `/${"p".repeat(110)}`)).toThrow(
      "longer than 107 bytes",
    );
  });
});
