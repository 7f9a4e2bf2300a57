import { describe, it } from "bun:test";
import { gstreamerStatus } from "@rialto/session-server";

/** The apt line that installs what the GStreamer tests need (also in README and `.ci/run`). */
export const GSTREAMER_APT =
  "apt-get install -y --no-install-recommends gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav gstreamer1.0-tools";

/** Whether this machine has GStreamer with the H.264 and AAC decoders, checked once. */
export const gstreamer = gstreamerStatus();

/** `RIALTO_REQUIRE_GSTREAMER=1` (CI): a missing GStreamer fails the tests instead of skipping them. */
const required = process.env.RIALTO_REQUIRE_GSTREAMER === "1";

/** The `it` a GStreamer suite's body gets: `bun:test`'s, or one that registers skipped tests. */
type It = (name: string, body: () => Promise<void> | void) => void;

/**
 * A `describe` whose tests need GStreamer. Without it they are skipped, and one line says how
 * many and how to install it (`scripts/run-tests.ts` sums these lines into its report); with
 * `RIALTO_REQUIRE_GSTREAMER=1` each of them fails instead, saying why.
 */
export function describeWithGstreamer(name: string, body: (it: It) => void): void {
  if (gstreamer.available) {
    describe(name, () => body(it));
    return;
  }
  const reason = gstreamer.reason;
  if (required) {
    describe(name, () =>
      body((test) =>
        it(test, () => {
          throw new Error(`RIALTO_REQUIRE_GSTREAMER=1 and ${reason}; ${GSTREAMER_APT}`);
        }),
      ),
    );
    return;
  }
  describe(name, () => {
    let skipped = 0;
    body((test, run) => {
      skipped++;
      it.skip(test, run);
    });
    console.log(`[gstreamer] ${skipped} tests skipped (${reason}); to run them: ${GSTREAMER_APT}`);
  });
}
