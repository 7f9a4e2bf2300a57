import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { fileURLToPath } from "node:url";
import { sessionServerBuildStatus } from "@rialto/server-manager";

// A manager and a session server start in a child process.
setDefaultTimeout(30_000);

const APP = fileURLToPath(new URL("./support/first-client-app.ts", import.meta.url));

describe("the session server's client side (issue 15)", () => {
  it("is loaded when the first client connects, from the clients bundle when the build is fresh", async () => {
    const child = Bun.spawn([process.execPath, APP], { stdout: "pipe", stderr: "pipe" });
    const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    expect(exitCode).toBe(0);
    const lines = stderr.split("\n");
    const mark = lines.indexOf("MARK before the first client");
    expect(mark).toBeGreaterThan(0);
    const loaded = lines
      .map((line, index) => ({ index, entry: line.startsWith("{") ? JSON.parse(line) : undefined }))
      .filter(({ entry }) => entry?.msg === "client side loaded");
    // Once, and only after the app was Inactive with no client.
    expect(loaded).toHaveLength(1);
    expect(loaded[0]?.index).toBeGreaterThan(mark);
    expect(loaded[0]?.entry.from).toBe(sessionServerBuildStatus().fresh ? "bundle" : "sources");
    // The client was served: its pipeline was created by the loaded side.
    expect(lines.some((line) => line.includes('"msg":"pipeline created"'))).toBe(true);
  });
});
