import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { runningAppsPerTest } from "./support/pipeline-harness.ts";
import { rejection } from "./support/rejection.ts";

// Real processes on a shared 2-core machine: bun's 5 s default is too tight under load.
setDefaultTimeout(30_000);

const givenRunningApp = runningAppsPerTest();

const AVCC = new Uint8Array([1, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00]);
const ASC = new Uint8Array([0x12, 0x10]);

describe("calls in the wrong order are refused, naming what comes first (issue 18)", () => {
  it("refuses attachSource before load, allSourcesAttached before a source, play and pause before allSourcesAttached", async () => {
    const { client } = await givenRunningApp({ clock: "freerun" });
    const pipeline = await client.createMediaPipeline();
    // Step 1: nothing loaded yet.
    const early = await rejection(
      pipeline.attachSource({ type: "video", mimeType: "video/h264", codecData: AVCC }),
    );
    expect(early.code).toBe("INVALID_STATE");
    expect(early.message).toContain("call load() first");
    const play = await rejection(pipeline.play());
    expect(play.code).toBe("INVALID_STATE");
    expect(play.message).toBe(
      `pipeline/play: pipeline ${pipeline.id} is not ready for play(): call load(), then attachSource() for each source, then allSourcesAttached() first`,
    );
    // Step 2: loaded, no source yet.
    await pipeline.load({ mimeType: "video/mp4" });
    const none = await rejection(pipeline.allSourcesAttached());
    expect(none.code).toBe("INVALID_STATE");
    expect(none.message).toContain("call attachSource() for each source first");
    // Step 3: a source, but allSourcesAttached not yet.
    await pipeline.attachSource({ type: "video", mimeType: "video/h264", codecData: AVCC });
    for (const call of [() => pipeline.play(), () => pipeline.pause()]) {
      const refused = await rejection(call());
      expect(refused.code).toBe("INVALID_STATE");
      expect(refused.message).toContain("call allSourcesAttached() first");
    }
    const seek = await rejection(pipeline.setPosition(0));
    expect(seek.message).toContain("not ready for setPosition(): call allSourcesAttached() first");
    // Step 4: in order, every call goes through.
    await pipeline.allSourcesAttached();
    await pipeline.play();
    await pipeline.pause();
    await pipeline.destroy();
  });
});

describe("sources the engine cannot play are refused at attachSource (issue 18)", () => {
  it("refuses an unknown MIME type naming the supported ones, and accepts every type the engine lists", async () => {
    const { client } = await givenRunningApp({ clock: "freerun" });
    const pipeline = await client.createMediaPipeline();
    await pipeline.load();
    const avc = await rejection(
      pipeline.attachSource({ type: "video", mimeType: "video/avc", codecData: AVCC }),
    );
    expect(avc.code).toBe("INVALID_ARGUMENT");
    expect(avc.message).toBe(
      'pipeline/attachSource: the virtual engine plays no video source of MIME type "video/avc"; its supported video types are video/h264, video/h265, video/x-vp9, video/x-av1',
    );
    expect(await client.getSupportedMimeTypes()).toEqual(
      expect.arrayContaining([
        "video/h264",
        "video/h265",
        "video/x-av1",
        "video/x-vp9",
        "audio/mp4",
        "audio/aac",
        "audio/x-opus",
        "audio/x-ac3",
        "audio/x-eac3",
        "audio/b-wav",
        "audio/x-raw",
        "text/vtt",
        "text/ttml",
        "text/cc",
      ]),
    );
    expect(await client.isMimeTypeSupported("video/avc")).toBe(false);
    await pipeline.destroy();
  });

  it("refuses a source without the codec data its format needs, or with codec data of another format", async () => {
    const { client } = await givenRunningApp({ clock: "freerun" });
    const pipeline = await client.createMediaPipeline();
    await pipeline.load();
    const noAsc = await rejection(pipeline.attachSource({ type: "audio", mimeType: "audio/mp4" }));
    expect(noAsc.code).toBe("INVALID_ARGUMENT");
    expect(noAsc.message).toContain(
      "a source of audio/mp4 needs codecData (its AudioSpecificConfig",
    );
    const annexB = new Uint8Array([0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x0d]);
    const notAvcc = await rejection(
      pipeline.attachSource({ type: "video", mimeType: "video/h264", codecData: annexB }),
    );
    expect(notAvcc.code).toBe("INVALID_ARGUMENT");
    expect(notAvcc.message).toContain("must be its avcC record");
    // Without codec data H.264 is Annex B: accepted; AAC with its AudioSpecificConfig too.
    await pipeline.attachSource({ type: "video", mimeType: "video/h264" });
    await pipeline.attachSource({ type: "audio", mimeType: "audio/mp4", codecData: ASC });
    await pipeline.destroy();
  });
});
