import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { fileURLToPath } from "node:url";

// Each run starts a manager and a session server in a child process.
setDefaultTimeout(30_000);

const APP = fileURLToPath(new URL("./support/log-level-app.ts", import.meta.url));

/** Runs the log-level app with `logLevel`; its exit code, stdout and stderr's JSON lines. */
async function runApp(logLevel: string) {
  const child = Bun.spawn([process.execPath, APP, logLevel], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  const lines = stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { level: number; name: string; msg: string });
  return { exitCode, stdout, stderr, lines };
}

describe("session-server logs (issue 18)", () => {
  it("go to stderr, never to the app's stdout", async () => {
    const run = await runApp("info");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe("");
    const server = run.lines.filter((line) => line.name === "rialto-session-server");
    expect(server.map((line) => line.msg)).toContain("listening for clients");
  });

  it('let no info line through at logLevel "warn"', async () => {
    const run = await runApp("warn");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe("");
    // pino levels: 30 info, 40 warn.
    expect(run.lines.filter((line) => line.level < 40)).toEqual([]);
  });
});
