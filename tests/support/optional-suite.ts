import { describe, it } from "bun:test";

/** Whether a machine has what a group of tests needs, and if not, why. */
export type Availability = { available: true } | { available: false; reason: string };

/** A group of tests that needs something the machine may lack (GStreamer, Chromium). */
export interface OptionalRequirement {
  /**
   * Short lowercase tag of the skip line: `[tag] N tests skipped (reason); to run them: ...`.
   * `scripts/run-tests.ts` sums these lines per tag into its report.
   */
  readonly tag: string;
  /** Whether the machine has it, checked once. */
  readonly availability: Availability;
  /** The command that installs it (printed in the skip line and the CI failure). */
  readonly install: string;
  /** The environment variable that turns a skip into a failure (CI): `<name>=1`. */
  readonly requireEnv: string;
}

/** The `it` a suite's body gets: `bun:test`'s, or one that registers skipped tests. */
export type It = (name: string, body: () => Promise<void> | void) => void;

/**
 * A `describe` whose tests need `requirement`. Without it they are skipped, and one line says
 * how many and how to install it; with `<requireEnv>=1` each of them fails instead, saying why.
 */
export function describeWith(
  requirement: OptionalRequirement,
  name: string,
  body: (it: It) => void,
): void {
  const { availability } = requirement;
  if (availability.available) {
    describe(name, () => body(it));
    return;
  }
  const reason = availability.reason;
  if (process.env[requirement.requireEnv] === "1") {
    describe(name, () =>
      body((test) =>
        it(test, () => {
          throw new Error(`${requirement.requireEnv}=1 and ${reason}; ${requirement.install}`);
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
    console.log(
      `[${requirement.tag}] ${skipped} tests skipped (${reason}); to run them: ${requirement.install}`,
    );
  });
}
