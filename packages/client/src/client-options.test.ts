import { describe, expect, it } from "bun:test";
import { resolveClientOptions } from "./client-options.ts";

describe("resolveClientOptions", () => {
  it("takes the socket path, deadline and pool settings from the environment by default", () => {
    const resolved = resolveClientOptions({
      env: {
        RIALTO_SOCKET_PATH: "/run/app.sock",
        RIALTO_CLIENT_IPC_TIMEOUT: "750",
        RIALTO_SHM_POOL_SIZE: "8192",
        RIALTO_SHM_MSG_TIMEOUT: "100",
        RIALTO_SHM_MAX_CONCURRENT_INVOCATIONS: "2",
      },
    });
    expect(resolved).toMatchObject({
      socketPath: "/run/app.sock",
      timeoutMs: 750,
      shmPoolSize: 8192,
      shmMsgTimeoutMs: 100,
      shmMaxConcurrentInvocations: 2,
      shmInlineLimit: 4096,
    });
  });

  it("prefers explicit options over the environment", () => {
    const resolved = resolveClientOptions({
      socketPath: "/tmp/x.sock",
      timeoutMs: 42,
      env: { RIALTO_SOCKET_PATH: "/run/app.sock", RIALTO_CLIENT_IPC_TIMEOUT: "750" },
    });
    expect(resolved).toMatchObject({ socketPath: "/tmp/x.sock", timeoutMs: 42 });
  });

  it("defaults to a 3000 ms deadline and a 262144-byte pool", () => {
    expect(resolveClientOptions({ socketPath: "/s", env: {} })).toMatchObject({
      timeoutMs: 3000,
      shmPoolSize: 262_144,
      shmMsgTimeoutMs: 30_000,
      shmMaxConcurrentInvocations: 32,
    });
  });

  it("refuses a missing socket path, a pool below 8192 bytes and a bad deadline", () => {
    expect(() => resolveClientOptions({ env: {} })).toThrow(/RIALTO_SOCKET_PATH is not set/);
    expect(() => resolveClientOptions({ socketPath: "/s", shmPoolSize: 4096, env: {} })).toThrow(
      /shmPoolSize must be at least 8192 bytes, got 4096/,
    );
    expect(() => resolveClientOptions({ socketPath: "/s", timeoutMs: 0, env: {} })).toThrow(
      /timeoutMs must be a positive integer, got 0/,
    );
  });
});
