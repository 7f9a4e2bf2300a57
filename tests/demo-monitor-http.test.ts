import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { fileURLToPath } from "node:url";
import { startProcess } from "./support/lifecycle-daemon.ts";
import { waitFor } from "./support/wait.ts";
import { sampleValue, scrape } from "./support/web-monitor.ts";

// A real-time demo run (about 5 s of media) on a shared 2-core machine.
setDefaultTimeout(90_000);

const DEMO_MAIN = fileURLToPath(new URL("../apps/demo-app/src/main.ts", import.meta.url));

describe("the demo's --monitor-http", () => {
  it("serves the web monitor of its in-process manager while it plays, with the playing pipeline's frames", async () => {
    // Given: the demo, playing in real time, with its web monitor on a free port.
    await using demo = startProcess([process.execPath, DEMO_MAIN, "--monitor-http", "0"]);
    const url = await waitFor(
      "the web monitor's address",
      () => /web monitor: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(demo.stdout())?.[1],
    );

    // Then: the page is served, and /api/apps and /metrics show the demo app playing.
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/monitor.js">');
    const frames = await waitFor("rendered frames of the demo app in /metrics", async () => {
      const families = await scrape(url);
      const video = sampleValue(families, "rialto_pipeline_frames_rendered_total", {
        app: "demo",
        kind: "video",
      });
      return video !== undefined && video > 0 ? video : undefined;
    });
    expect(frames).toBeGreaterThan(0);
    const apps = (await (await fetch(new URL("api/apps", url))).json()) as {
      apps: Array<{ appId: string; state: string; pid: number }>;
    };
    expect(apps.apps).toEqual([
      expect.objectContaining({ appId: "demo", state: "Active", pid: expect.any(Number) }),
    ]);

    // And: the demo still ends as it always does, and its monitor with it.
    expect(await demo.finished()).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  });
});
