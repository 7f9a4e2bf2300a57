import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isListening, listenUnix } from "./socket-transport.ts";

describe("listenUnix", () => {
  const dirs: string[] = [];
  const dir = () => {
    const made = mkdtempSync(join(tmpdir(), "rialto-listen-"));
    dirs.push(made);
    return made;
  };
  afterEach(() => {
    for (const made of dirs.splice(0)) rmSync(made, { recursive: true, force: true });
  });

  it("creates the socket with the requested mode and removes it on close", async () => {
    const path = join(dir(), "a.sock");
    const listener = await listenUnix(path, () => {}, { mode: 0o600 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await isListening(path)).toBe(true);
    listener.close();
    expect(await isListening(path)).toBe(false);
  });

  it("replaces a stale socket file nobody listens on", async () => {
    const path = join(dir(), "stale.sock");
    writeFileSync(path, "");
    expect(await isListening(path)).toBe(false);
    await using listener = await listenUnix(path, () => {});
    expect(await isListening(listener.path)).toBe(true);
  });

  it("refuses to take over a socket a live server listens on", async () => {
    const path = join(dir(), "live.sock");
    await using _live = await listenUnix(path, () => {});
    const error = await listenUnix(path, () => {}).catch((e) => e);
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain("in use by a running server");
    expect(await isListening(path)).toBe(true);
  });
});
