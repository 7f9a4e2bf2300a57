import { existsSync } from "node:fs";
import { type Browser, chromium as playwright } from "playwright-core";
import { type Availability, describeWith, type It } from "./optional-suite.ts";

/** The apt line that installs the browser the web-monitor tests drive (also in `.ci/run`). */
export const CHROMIUM_APT = "apt-get install -y --no-install-recommends chromium";

/** Debian's Chromium, or `RIALTO_CHROMIUM` (never a browser downloaded by a test tool). */
export const CHROMIUM_PATH = process.env.RIALTO_CHROMIUM ?? "/usr/bin/chromium";

/** Whether this machine has Chromium, checked once. */
export const chromiumAvailability: Availability = existsSync(CHROMIUM_PATH)
  ? { available: true }
  : { available: false, reason: `no Chromium at ${CHROMIUM_PATH}` };

/**
 * A `describe` whose tests need Chromium. Without it they are skipped with one line (summed by
 * `scripts/run-tests.ts`); with `RIALTO_REQUIRE_CHROMIUM=1` (CI) they fail instead.
 */
export function describeWithChromium(name: string, body: (it: It) => void): void {
  describeWith(
    {
      tag: "chromium",
      availability: chromiumAvailability,
      install: CHROMIUM_APT,
      requireEnv: "RIALTO_REQUIRE_CHROMIUM",
    },
    name,
    body,
  );
}

/** A headless Chromium; disposing closes it (playwright removes its throw-away profile). */
export interface TestBrowser extends AsyncDisposable {
  readonly browser: Browser;
}

/**
 * Launches Debian's Chromium headless through playwright-core. The flags are those that work
 * as root on a machine without a network: no sandbox (root), no GPU, and none of Chromium's
 * own background connections (they would be refused, many at a time). Playwright gives it a new
 * empty profile directory of its own.
 */
export async function launchChromium(): Promise<TestBrowser> {
  const browser = await playwright.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    [Symbol.asyncDispose]: async () => {
      await browser.close();
    },
  };
}
