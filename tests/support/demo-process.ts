import { afterEach } from "bun:test";
import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";
import { WAIT_MS, within } from "./wait.ts";

const DEMO_MAIN = fileURLToPath(new URL("../../apps/demo-app/src/main.ts", import.meta.url));

/** What a demo run printed and how it ended. */
export interface DemoRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Registers, in the calling scope (call it at file scope), an `afterEach` that kills every demo
 * the returned function started during the test; the returned function runs the demo as a child
 * process with `args` and resolves with its exit code and output (deadline: twice `WAIT_MS`).
 */
export function demoRunsPerTest(): (...args: string[]) => Promise<DemoRun> {
  const children: Subprocess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await child.exited;
    }
  });
  return async (...args) => {
    const child = Bun.spawn([process.execPath, DEMO_MAIN, ...args], {
      stdout: "pipe",
      stderr: "pipe",
    });
    children.push(child);
    const [code, stdout, stderr] = await within(
      Promise.all([
        child.exited,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]),
      `demo ${args.join(" ")}`,
      WAIT_MS * 2,
    );
    return { code, stdout, stderr };
  };
}
