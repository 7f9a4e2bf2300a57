// `bun run bench`: every benchmark in turn, with short settings (RIALTO_BENCH_QUICK=1, a short
// gst-playback and device-scale), each one's output as it comes, then one line per benchmark
// with its last line (the JSON figures) or why it failed. Exit code 1 when any failed.
// For the figures in BENCHMARKS.md run each script alone, with its full settings.
import { fileURLToPath } from "node:url";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));

/** Each benchmark and the arguments that keep it short. */
const BENCHMARKS: readonly (readonly string[])[] = [
  ["rpc-roundtrip.ts"],
  ["client-rpc.ts"],
  ["shm-throughput.ts"],
  ["av-throughput.ts"],
  ["lifecycle.ts"],
  ["decrypt.ts"],
  ["seek.ts"],
  ["gst-playback.ts", "--rounds", "2", "--seconds", "5"],
  [
    "device-scale.ts",
    "--window-s",
    "10",
    "--monitor-window-s",
    "3",
    "--steady-after-s",
    "10",
    "--park-after-ms",
    "500",
  ],
];

const results: { name: string; ok: boolean; last: string; seconds: number }[] = [];
for (const [script, ...args] of BENCHMARKS) {
  const name = script as string;
  console.log(`\n=== bench/${name} ${args.join(" ")}`);
  const started = performance.now();
  const child = Bun.spawn({
    cmd: [process.execPath, `${BENCH_DIR}${name}`, ...args],
    env: { ...process.env, RIALTO_BENCH_QUICK: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  for await (const chunk of child.stdout) {
    const text = new TextDecoder().decode(chunk);
    output += text;
    process.stdout.write(text);
  }
  const code = await child.exited;
  const lines = output.trim().split("\n");
  results.push({
    name,
    ok: code === 0,
    last: code === 0 ? (lines.at(-1) ?? "") : `exited with ${code}`,
    seconds: (performance.now() - started) / 1000,
  });
}

console.log("\n=== summary (short settings)");
for (const { name, ok, last, seconds } of results) {
  console.log(
    `${ok ? "ok  " : "FAIL"} ${name.padEnd(20)} ${seconds.toFixed(0).padStart(4)} s  ${last}`,
  );
}
process.exit(results.every((result) => result.ok) ? 0 : 1);
