/**
 * `full` normally, `short` when `RIALTO_BENCH_QUICK=1` (set by `bun run bench`, which runs every
 * benchmark in turn with short settings: figures for a quick look, not for BENCHMARKS.md).
 */
export function quick<T>(full: T, short: T): T {
  return process.env.RIALTO_BENCH_QUICK === "1" ? short : full;
}
