/**
 * Preloaded (`bun --preload`) into a session server by the TypeBox-ahead-of-time test: as the
 * process exits it writes what it loaded to `$TMPDIR/rialto-loaded-modules-<pid>.json`: the
 * CommonJS files (the bundles) and what the bundle's TypeBox replay reported.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

process.on("exit", () => {
  const replay = (globalThis as Record<symbol, unknown>)[
    Symbol.for("rialto.session-server.typebox-replay")
  ];
  writeFileSync(
    join(tmpdir(), `rialto-loaded-modules-${process.pid}.json`),
    JSON.stringify({ modules: Object.keys(require.cache), replay }),
  );
});
