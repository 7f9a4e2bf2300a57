import { describe, expect, it } from "bun:test";
import { readRpcEnvironment } from "./rpc-environment.ts";

describe("readRpcEnvironment", () => {
  it("uses the documented defaults when nothing is set", () => {
    expect(readRpcEnvironment({})).toEqual({
      clientIpcTimeoutMs: 3000,
      clientGraceMs: 30_000,
      shmPoolSize: 262_144,
      shmMsgTimeoutMs: 30_000,
      shmMaxConcurrentInvocations: 32,
    });
  });

  it("reads every variable", () => {
    const env = readRpcEnvironment({
      RIALTO_CLIENT_IPC_TIMEOUT: "500",
      RIALTO_CLIENT_GRACE_MS: "0",
      RIALTO_SHM_POOL_SIZE: "8192",
      RIALTO_SHM_MSG_TIMEOUT: "250",
      RIALTO_SHM_MAX_CONCURRENT_INVOCATIONS: "4",
    });
    expect(env).toEqual({
      clientIpcTimeoutMs: 500,
      clientGraceMs: 0,
      shmPoolSize: 8192,
      shmMsgTimeoutMs: 250,
      shmMaxConcurrentInvocations: 4,
    });
  });

  it("refuses a pool below 8192 bytes and a malformed number, naming the variable", () => {
    expect(() => readRpcEnvironment({ RIALTO_SHM_POOL_SIZE: "4096" })).toThrow(
      /RIALTO_SHM_POOL_SIZE="4096" is not an integer from 8192 to \d+/,
    );
    expect(() => readRpcEnvironment({ RIALTO_CLIENT_IPC_TIMEOUT: "3s" })).toThrow(
      /RIALTO_CLIENT_IPC_TIMEOUT="3s"/,
    );
  });
});
