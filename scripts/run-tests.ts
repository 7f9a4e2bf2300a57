// Runs every workspace's tests through turbo and ends with one line: "N passed, N failed".
// bun test prints " N pass" / " N fail" per run; turbo prefixes them with the package name.

const child = Bun.spawn(
  [
    process.execPath,
    "x",
    "turbo",
    "run",
    "test",
    "--concurrency=1",
    "--output-logs=full",
    "--log-order=grouped",
  ],
  {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", FORCE_COLOR: "0" },
  },
);

let passed = 0;
let failed = 0;
let errors = 0;
/**
 * Tests skipped on a machine without what they need (GStreamer, Chromium), per tag of their skip
 * line (`tests/support/optional-suite.ts`), and the hint that says how to get it.
 */
const skippedByTag = new Map<string, { count: number; hint: string }>();
/** How each tag is named in the report. */
const TAG_NAMES: Record<string, string> = { gstreamer: "GStreamer", chromium: "Chromium" };

async function pump(stream: ReadableStream<Uint8Array>, sink: NodeJS.WriteStream): Promise<void> {
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    sink.write(text);
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) count(line);
  }
  count(pending);
}

function count(line: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  const plain = line.replace(/\x1b\[[0-9;]*m/g, "");
  const skipped = /\[([a-z]+)\] (\d+) tests skipped \((.*)\); to run them: (.*)$/.exec(plain);
  if (skipped !== null) {
    const tag = skipped[1] ?? "";
    const entry = skippedByTag.get(tag) ?? { count: 0, hint: "" };
    entry.count += Number(skipped[2]);
    entry.hint = `${skipped[3]}; to run them: ${skipped[4]}`;
    skippedByTag.set(tag, entry);
    return;
  }
  const match = /^\S+:test:\s+(\d+) (pass|fail|error)s?\s*$/.exec(plain);
  if (match === null) return;
  const n = Number(match[1]);
  if (match[2] === "pass") passed += n;
  else if (match[2] === "fail") failed += n;
  else errors += n;
}

await Promise.all([pump(child.stdout, process.stdout), pump(child.stderr, process.stderr)]);
const exitCode = await child.exited;
// A crashed runner or a load error counts as a failure even when no "fail" line says so.
if (exitCode !== 0 && failed === 0) failed = Math.max(1, errors);
for (const [tag, { count, hint }] of skippedByTag) {
  console.log(`${count} ${TAG_NAMES[tag] ?? tag} tests skipped: ${hint}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode === 0 && failed === 0 ? 0 : 1);
