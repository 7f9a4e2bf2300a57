import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DAEMON_MAIN, startProcess } from "./support/lifecycle-daemon.ts";
import { waitFor } from "./support/wait.ts";
import { appInfo, startHttpDaemon } from "./support/web-monitor.ts";

// Real processes on a shared 2-core machine.
setDefaultTimeout(60_000);

/** POSTs an action, with `token` as a Bearer token when given. */
function post(url: string, path: string, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return fetch(new URL(path, url), { method: "POST", headers });
}

describe("rialto-server-manager --http: security", () => {
  it("refuses a non-loopback address unless --http-allow-remote is given", async () => {
    const dir = mkdtempSync("/tmp/rsd-");
    try {
      const daemon = startProcess([
        process.execPath,
        DAEMON_MAIN,
        "--runtime-dir",
        dir,
        "--http",
        "0.0.0.0:0",
      ]);
      expect(await daemon.finished()).toBe(2);
      expect(daemon.stderr()).toContain(
        "rialto-server-manager: --http 0.0.0.0:0 is not a loopback address; add --http-allow-remote",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is read-only without --http-control", async () => {
    await using h = await startHttpDaemon();
    const response = await post(h.url, "api/apps/app1/start", "anything");
    expect(response.status).toBe(403);
    expect((await h.d.ctl("ls", "--json")).stdout).toBe("");
  });

  it("checks the token on every write, and acts with the right one", async () => {
    await using h = await startHttpDaemon(["--http-control"]);
    expect(h.token).toMatch(/^[0-9a-f]{64}$/);
    const token = h.token as string;
    expect((await post(h.url, "api/apps/app1/start")).status).toBe(401);
    expect((await post(h.url, "api/apps/app1/start", `${token}0`)).status).toBe(401);
    expect((await post(h.url, "api/apps/app1/start", token.slice(1))).status).toBe(401);
    expect((await h.d.ctl("ls", "--json")).stdout).toBe("");
    // The right token: start, then activate (each waits for the manager's OK).
    const started = await post(h.url, "api/apps/app1/start", token);
    expect(started.status).toBe(200);
    expect(await started.json()).toEqual({ appId: "app1", action: "start" });
    await waitFor("app1 Inactive", async () => (await appInfo(h.d, "app1")).state === "Inactive");
    expect((await post(h.url, "api/apps/app1/activate", token)).status).toBe(200);
    await waitFor("app1 Active", async () => (await appInfo(h.d, "app1")).state === "Active");
    // A refused request names the manager's error; GET cannot act.
    const again = await post(h.url, "api/apps/app1/start", token);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("APP_EXISTS");
    expect((await fetch(new URL("api/apps/app1/stop", h.url))).status).toBe(405);
    expect((await post(h.url, "api/apps/app1/stop", token)).status).toBe(200);
  });

  it("reads the token from a file of mode 0600 instead of printing one", async () => {
    const dir = mkdtempSync("/tmp/rialto-token-");
    try {
      const file = join(dir, "token");
      writeFileSync(file, "a-token-from-a-file-0123\n");
      chmodSync(file, 0o600);
      await using h = await startHttpDaemon(["--http-control", "--http-token-file", file]);
      expect(h.d.daemon.stdout()).not.toContain("control token");
      expect((await post(h.url, "api/apps/app1/start", "a-token-from-a-file-0123")).status).toBe(
        200,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sets no CORS header, refuses a foreign Host, and bounds the event-stream clients", async () => {
    await using h = await startHttpDaemon(["--http-control"]);
    const origin = { Origin: "http://evil.example" };
    for (const path of ["", "metrics", "api/apps"]) {
      const response = await fetch(new URL(path, h.url), { headers: origin });
      expect(response.status).toBe(200);
      expect([...response.headers.keys()].filter((k) => k.startsWith("access-control"))).toEqual(
        [],
      );
    }
    const preflight = await fetch(new URL("api/apps/app1/start", h.url), {
      method: "OPTIONS",
      headers: { ...origin, "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(405);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    // DNS rebinding: a page of another name that resolves to 127.0.0.1 is refused.
    const rebound = await fetch(new URL("api/apps", h.url), {
      headers: { Host: "evil.example" },
    });
    expect(rebound.status).toBe(421);
    // At most 16 event-stream clients; the 17th is refused, and a place frees when one leaves.
    const aborts: AbortController[] = [];
    try {
      for (let i = 0; i < 16; i++) {
        const abort = new AbortController();
        aborts.push(abort);
        const response = await fetch(new URL("api/events", h.url), { signal: abort.signal });
        expect(response.status).toBe(200);
      }
      expect((await fetch(new URL("api/events", h.url))).status).toBe(503);
      aborts.pop()?.abort();
      await waitFor("a free event-stream place", async () => {
        const response = await fetch(new URL("api/events", h.url), {
          signal: AbortSignal.timeout(2000),
        });
        if (response.status !== 200) return false;
        await response.body?.cancel();
        return true;
      });
    } finally {
      for (const abort of aborts) abort.abort();
    }
  });
});
