import { expect, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { PNG } from "pngjs";
import { describeWithChromium, launchChromium } from "./support/chromium.ts";
import { givenClipPlayer } from "./support/pipeline-harness.ts";
import { waitFor, within } from "./support/wait.ts";
import { appInfo, runningClient, startHttpDaemon } from "./support/web-monitor.ts";

// Chromium and real session servers on a shared 2-core machine: starting the browser alone can
// take 10 s there.
setDefaultTimeout(180_000);

const VIEWPORT = { width: 1280, height: 720 };
/** Deadline of one thing the page must show, ms. */
const SHOWN_MS = 20_000;

/** Waits until the page's row of `appId` shows `state` (set live from the event stream). */
async function stateShown(page: Page, appId: string, state: string): Promise<void> {
  await page
    .locator(`tr[data-app="${appId}"] [data-field="state"][data-state="${state}"]`)
    .waitFor({ timeout: SHOWN_MS });
}

/** The frames-rendered count the page shows for `appId`'s pipeline, once it is above `above`. */
async function framesShown(page: Page, appId: string, above: number): Promise<number> {
  const row = page.locator(`tr[data-app="${appId}"]`);
  return waitFor(
    `${appId}'s frame count above ${above} on the page`,
    async () => {
      const value = Number((await row.getAttribute("data-frames-rendered")) ?? Number.NaN);
      return value > above ? value : undefined;
    },
    SHOWN_MS,
  );
}

describeWithChromium(
  "the web monitor in headless Chromium (real daemon, real session servers)",
  (it) => {
    it("shows an app appear, its state change live, frames rise while it plays, and acts with the token", async () => {
      const dir = mkdtempSync("/tmp/rialto-monitor-test-");
      try {
        // Given: a daemon with the web monitor and control, and the page open in Chromium.
        await using h = await startHttpDaemon(["--http-control"]);
        await using chromium = await launchChromium();
        const page = await chromium.browser.newPage({ viewport: VIEWPORT });
        await page.goto(`${h.url}#token=${h.token}`);
        await page.locator('#connection[data-state="live"]').waitFor({ timeout: SHOWN_MS });
        expect(await page.locator("#no-apps").isVisible()).toBe(true);

        // Step 1: an app started with rialtoctl appears, with its pid and memory.
        expect((await h.d.ctl("start", "tv", "--active")).exitCode).toBe(0);
        await stateShown(page, "tv", "Active");
        const { pid, socketPath } = await appInfo(h.d, "tv");
        const row = page.locator('tr[data-app="tv"]');
        await waitFor("the pid and memory of tv on the page", async () => {
          const shownPid = await row.locator('[data-field="pid"]').textContent();
          const memory = await row.locator('[data-field="memory"]').textContent();
          return shownPid === String(pid) && /MiB$/.test(memory ?? "");
        });

        // Step 2: rialtoctl set changes its state; the page follows without a reload.
        expect((await h.d.ctl("set", "tv", "inactive")).exitCode).toBe(0);
        await stateShown(page, "tv", "Inactive");
        await page
          .locator('#timeline li[data-app="tv"][data-event="state_changed"]', {
            hasText: "Inactive",
          })
          .waitFor({ timeout: SHOWN_MS });
        expect((await h.d.ctl("set", "tv", "active")).exitCode).toBe(0);
        await stateShown(page, "tv", "Active");

        // Step 3: a client plays the demo clip in real time; the frame count rises on the page.
        await using client = await runningClient(socketPath);
        const { player } = await givenClipPlayer(client);
        await waitFor("tv's pipeline on the page", async () => {
          return (await row.getAttribute("data-frames-rendered")) !== null;
        });
        await player.play();
        const first = await framesShown(page, "tv", 0);
        const later = await framesShown(page, "tv", first);
        expect(later).toBeGreaterThan(first);
        expect(await row.locator("canvas").isVisible()).toBe(true);

        // Step 4: a screenshot of the page is a PNG of the viewport's size, and not blank.
        const screenshot = join(dir, "monitor.png");
        await page.screenshot({ path: screenshot });
        const png = PNG.sync.read(readFileSync(screenshot));
        expect([png.width, png.height]).toEqual([VIEWPORT.width, VIEWPORT.height]);
        const colours = new Set<number>();
        for (let i = 0; i < png.data.length; i += 4 * 7) colours.add(png.data.readUInt32BE(i));
        expect(colours.size).toBeGreaterThan(20);

        // Step 5: with the token from the URL, the page's deactivate button changes the app.
        await within(player.ended, "the clip's end");
        await row.locator('button[data-action="deactivate"]').click();
        await stateShown(page, "tv", "Inactive");
        expect((await appInfo(h.d, "tv")).state).toBe("Inactive");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
