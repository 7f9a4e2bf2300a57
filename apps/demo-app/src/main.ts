// The demo: plays an MP4 end to end through a server manager, a session server and the client
// library, and checks what was rendered against the file. See ../README.md for the flags.
import { toRialtoError } from "@rialto/protocol";
import { DEMO_USAGE, parseDemoOptions } from "./demo-options.ts";
import { loadDemoMedia, runDemo } from "./run-demo.ts";

async function main(args: readonly string[]): Promise<number> {
  const options = parseDemoOptions(args);
  if (options.help) {
    console.log(DEMO_USAGE);
    return 0;
  }
  const media = await loadDemoMedia(options);
  const ok = await runDemo(options, media, {
    line: (text = "") => console.log(text),
    progress: process.stdout,
  });
  return ok ? 0 : 1;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`demo: ${toRialtoError(error).message}`);
  process.exitCode = 1;
}
