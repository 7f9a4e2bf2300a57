import { fileURLToPath } from "node:url";
import type { Subprocess } from "bun";
import { WAIT_MS, within } from "./wait.ts";

const DEMO_MAIN = fileURLToPath(new URL("../../apps/demo-app/src/main.ts", import.meta.url));

/** What a demo run printed, and its exit code. */
export interface DemoRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the demo (`apps/demo-app/src/main.ts`) as child processes: `run(...args)` resolves with
 * the exit code and output within `waitMs`; `cleanup()` (from `afterEach`) kills any child still
 * running and waits for it.
 */
export function demoProcesses(waitMs = WAIT_MS * 2): {
  run(...args: string[]): Promise<DemoRun>;
  cleanup(): Promise<void>;
} {
  const children: Subprocess[] = [];
  return {
    async run(...args) {
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
        waitMs,
      );
      return { code, stdout, stderr };
    },
    async cleanup() {
      for (const child of children.splice(0)) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        await child.exited;
      }
    },
  };
}
