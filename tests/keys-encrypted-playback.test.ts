import { describe, expect, it, setDefaultTimeout } from "bun:test";
import type { MediaKeys, RialtoClient } from "@rialto/client";
import type { KeyStatusesChangedEvent } from "@rialto/protocol";
import { checkOutcomes } from "../apps/demo-app/src/checksum-report.ts";
import { type EncryptedClip, loadEncryptedClip } from "../apps/demo-app/src/encrypted-clip.ts";
import { givenClipPlayer, runningAppsPerTest } from "./support/pipeline-harness.ts";
import { within } from "./support/wait.ts";

setDefaultTimeout(30_000);

const givenRunningApp = runningAppsPerTest();

/** A Running client of an Active freerun app with the checksum sink, and a ClearKey MediaKeys. */
async function givenClientWithKeys(): Promise<{ client: RialtoClient; mediaKeys: MediaKeys }> {
  const given = await givenRunningApp({ clock: "freerun" });
  const mediaKeys = await given.client.createMediaKeys("org.w3.clearkey");
  return { client: given.client, mediaKeys };
}

/** Asks for the clip's license with its pssh; resolves with the key session id. */
async function requestLicense(mediaKeys: MediaKeys, clip: EncryptedClip): Promise<number> {
  const keySessionId = await mediaKeys.createKeySession();
  await mediaKeys.generateRequest(keySessionId, "cenc", clip.cencInitData);
  return keySessionId;
}

describe("encrypted playback through the real client, session server and pipeline", () => {
  it("decrypts the CENC clip with the key from the ClearKey license: every checksum equals the clear file's", async () => {
    // Step 1: the license exchange gives the key session the clip's key.
    const { client, mediaKeys } = await givenClientWithKeys();
    const clip = await loadEncryptedClip();
    const keySessionId = await requestLicense(mediaKeys, clip);
    await mediaKeys.updateSession(keySessionId, JSON.stringify(clip.license));

    // Step 2: the encrypted samples go through shared memory, naming the key session.
    const { player, log } = await givenClipPlayer(client, {
      movie: clip.movie,
      segmentOf: clip.segmentsFor(keySessionId),
    });
    await player.play();
    expect(await within(player.ended, "EndOfStream")).toBe("EndOfStream");

    // Step 3: the server decrypted every sample before rendering it.
    const checks = checkOutcomes(await player.outcomes());
    expect(checks.map((c) => [c.type, c.renderedFrames, c.droppedFrames, c.ok])).toEqual([
      ["video", 125, 0, true],
      // 235: the AAC priming sample (before 0, flagged discard) is fed and clipped.
      ["audio", 235, 0, true],
    ]);
    expect(log.all("playbackError")).toEqual([]);
  });

  it("reports a missing key as a Decryption playbackError and plays once the license arrives", async () => {
    // Step 1: a key session asked for a license, which has not come yet.
    const { client, mediaKeys } = await givenClientWithKeys();
    const clip = await loadEncryptedClip();
    const keySessionId = await requestLicense(mediaKeys, clip);
    const { player, log } = await givenClipPlayer(client, {
      movie: clip.movie,
      segmentOf: clip.segmentsFor(keySessionId),
    });

    // Step 2: every frame fails to decrypt; each is reported and dropped, playback goes on.
    await player.play();
    const firstEnd = await log.state("EndOfStream");
    const errors = log.all("playbackError").map((e) => e.payload);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.error === "Decryption")).toBe(true);
    expect(errors[0]?.message).toContain(clip.keyId);
    for (const check of checkOutcomes(await player.outcomes()))
      expect(check.renderedFrames).toBe(0);

    // Step 3: the license arrives; played again from the start, every frame renders.
    const statuses: KeyStatusesChangedEvent[] = [];
    mediaKeys.on("keyStatusesChanged", (event) => statuses.push(event));
    await mediaKeys.updateSession(keySessionId, JSON.stringify(clip.license));
    expect(statuses.at(-1)?.statuses).toEqual([{ keyId: clip.keyId, status: "usable" }]);
    const errorsBefore = log.all("playbackError").length;
    await player.seek(0);
    await log.state("EndOfStream", { from: log.events.indexOf(firstEnd) + 1 });
    expect(log.all("playbackError").length).toBe(errorsBefore);
    // Every sample rendered once, in order; the frames dropped are the first pass's failures.
    const outcomes = await player.outcomes();
    const checks = checkOutcomes(outcomes);
    expect(
      checks.map((c) => [c.type, c.renderedFrames, c.renderedChecksum === c.fileChecksum]),
    ).toEqual([
      ["video", 125, true],
      ["audio", 235, true],
    ]);
    for (const { sourceId, stats } of outcomes) {
      expect(stats.droppedFrames).toBe(errors.filter((e) => e.sourceId === sourceId).length);
    }
  });
});
