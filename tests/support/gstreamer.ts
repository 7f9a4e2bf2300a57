import { gstreamerStatus } from "@rialto/session-server";
import { describeWith, type It } from "./optional-suite.ts";

/** The apt line that installs what the GStreamer tests need (also in README and `.ci/run`). */
export const GSTREAMER_APT =
  "apt-get install -y --no-install-recommends gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav gstreamer1.0-tools";

/** Whether this machine has GStreamer with the H.264 and AAC decoders, checked once. */
export const gstreamer = gstreamerStatus();

/**
 * A `describe` whose tests need GStreamer. Without it they are skipped, and one line says how
 * many and how to install it (`scripts/run-tests.ts` sums these lines into its report); with
 * `RIALTO_REQUIRE_GSTREAMER=1` (CI) each of them fails instead, saying why.
 */
export function describeWithGstreamer(name: string, body: (it: It) => void): void {
  describeWith(
    {
      tag: "gstreamer",
      availability: gstreamer,
      install: GSTREAMER_APT,
      requireEnv: "RIALTO_REQUIRE_GSTREAMER",
    },
    name,
    body,
  );
}
