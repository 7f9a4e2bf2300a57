import type { Subprocess } from "bun";

/** A benchmark's child process, started and waited for "ready"; killed on dispose. */
export interface BenchChild extends AsyncDisposable {
  readonly process: Subprocess<"pipe", "pipe", "inherit">;
}

/**
 * Runs `bun <args>` (after `prefix`, e.g. a `taskset` pinning it) and resolves once the child
 * prints "ready" (rejects after 10 s).
 */
export async function startChild(args: string[], prefix: string[] = []): Promise<BenchChild> {
  const child = Bun.spawn([...prefix, process.execPath, ...args], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  const deadline = setTimeout(() => child.kill(), 10_000);
  let seen = "";
  while (!seen.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child ${args.join(" ")} exited before it was ready`);
    seen += new TextDecoder().decode(value);
  }
  clearTimeout(deadline);
  reader.releaseLock();
  return {
    process: child,
    async [Symbol.asyncDispose]() {
      child.stdin.end();
      child.kill();
      await child.exited;
    },
  };
}

/** The `p`th percentile (0–100) of `samples` (sorts a copy). */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
