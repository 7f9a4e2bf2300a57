import { afterEach, describe, expect, it } from "bun:test";
import { DEFAULT_RESOURCES } from "@rialto/protocol";
import pino from "pino";
import { AvMemory } from "../av-memory.ts";
import { PipelineBook } from "./pipeline-book.ts";
import { bookClient } from "./test-support/book-client.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function givenPipelines(options: { maxPlaybackSessions?: number; withMemory?: boolean } = {}) {
  const resources = { ...DEFAULT_RESOURCES, maxPlaybackSessions: options.maxPlaybackSessions ?? 2 };
  const memory = options.withMemory === false ? undefined : AvMemory.allocate(resources);
  const pipelines = new PipelineBook({
    logger: pino({ level: "silent" }),
    maxPlaybackSessions: resources.maxPlaybackSessions,
    playback: { clock: "freerun", sink: "checksum" },
    avMemory: () => memory,
  });
  cleanups.push(() => {
    pipelines.closeAll();
    memory?.close();
  });
  return { pipelines, memory };
}

const names = (sent: { event: string }[]) => sent.map((s) => s.event);

describe("PipelineBook", () => {
  it("gives each pipeline the lowest free partition and sends its events to the owner only", () => {
    const { pipelines, memory } = givenPipelines();
    const owner = bookClient(1);
    const other = bookClient(2);
    const first = pipelines.create(owner.client, {});
    const second = pipelines.create(other.client, {});
    expect([first.partition, second.partition]).toEqual([0, 1]);

    const service = pipelines.get(owner.client, first.id, "pipeline/play");
    service.pipeline.attachSource({ type: "audio", mimeType: "audio/mp4" });
    service.pipeline.allSourcesAttached();

    expect(names(owner.sent)).toEqual(["pipeline/networkState", "pipeline/needMediaData"]);
    expect(other.sent).toEqual([]);
    const need = owner.sent[1]?.payload as { region: { offset: number } };
    expect(need.region.offset).toBe(memory?.layout.playback[0]?.audio.offset ?? -1);
    expect(() => pipelines.get(other.client, first.id, "pipeline/play")).toThrow(
      expect.objectContaining({
        code: "NOT_FOUND",
        message: `"pipeline/play": client 2 has no pipeline ${first.id}`,
      }),
    );
  });

  it("refuses past maxPlaybackSessions with RESOURCE_EXHAUSTED, and frees a partition on destroy", () => {
    const { pipelines } = givenPipelines({ maxPlaybackSessions: 1 });
    const owner = bookClient(1);
    const { id } = pipelines.create(owner.client, {});
    expect(() => pipelines.create(owner.client, {})).toThrow(
      expect.objectContaining({ code: "RESOURCE_EXHAUSTED" }),
    );
    pipelines.destroy(owner.client, id);
    expect(pipelines.size).toBe(0);
    expect(() => pipelines.destroy(owner.client, id)).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
    expect(pipelines.create(owner.client, {}).partition).toBe(0);
  });

  it("claims no partition without AV memory (INVALID_STATE)", () => {
    const { pipelines } = givenPipelines({ withMemory: false });
    expect(() => pipelines.create(bookClient(1).client, {})).toThrow(
      expect.objectContaining({ code: "INVALID_STATE" }),
    );
    expect(pipelines.size).toBe(0);
  });

  it("tells the owner playbackState Stopped before releasing its pipelines", () => {
    const { pipelines } = givenPipelines({ maxPlaybackSessions: 3 });
    const owner = bookClient(1);
    const other = bookClient(2);
    pipelines.create(owner.client, {});
    pipelines.create(owner.client, {});
    pipelines.create(other.client, {});

    expect(pipelines.releaseClient(owner.client)).toBe(2);

    expect(owner.sent.map((s) => [s.event, (s.payload as { state: string }).state])).toEqual([
      ["pipeline/playbackState", "Stopped"],
      ["pipeline/playbackState", "Stopped"],
    ]);
    expect([pipelines.size, other.sent.length]).toEqual([1, 0]);
    // The released pipelines' partitions are free again: two more fit.
    expect(
      [pipelines.create(owner.client, {}), pipelines.create(owner.client, {})].map(
        (r) => r.partition,
      ),
    ).toEqual([0, 1]);
  });

  it("holds needMediaData while the app is not Running and sends it anew when it is again", () => {
    const { pipelines } = givenPipelines();
    const owner = bookClient(1);
    const { id } = pipelines.create(owner.client, {});
    const { pipeline } = pipelines.get(owner.client, id, "test");
    pipeline.attachSource({ type: "video", mimeType: "video/h264" });

    pipelines.setApplicationRunning(false);
    pipeline.allSourcesAttached();
    expect(names(owner.sent)).toEqual(["pipeline/networkState"]);

    pipelines.setApplicationRunning(true);
    expect(names(owner.sent)).toEqual(["pipeline/networkState", "pipeline/needMediaData"]);
  });
});
