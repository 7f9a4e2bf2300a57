import { afterEach, describe, expect, it } from "bun:test";
import { DEFAULT_RESOURCES } from "@rialto/protocol";
import pino from "pino";
import { AvMemory } from "../av-memory.ts";
import { PipelineBook } from "./pipeline-book.ts";
import { PipelineSessions } from "./pipeline-sessions.ts";
import { bookClient } from "./test-support/book-client.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function givenSessions(options: { maxPlaybackSessions?: number; withMemory?: boolean } = {}) {
  const resources = { ...DEFAULT_RESOURCES, maxPlaybackSessions: options.maxPlaybackSessions ?? 2 };
  const memory = options.withMemory === false ? undefined : AvMemory.allocate(resources);
  const book = new PipelineBook(resources.maxPlaybackSessions);
  const sessions = new PipelineSessions({
    logger: pino({ level: "silent" }),
    book,
    playback: { clock: "freerun", sink: "checksum" },
    avMemory: () => memory,
  });
  cleanups.push(() => {
    sessions.closeAll();
    memory?.close();
  });
  return { sessions, book, memory };
}

const names = (sent: { event: string }[]) => sent.map((s) => s.event);

describe("PipelineSessions", () => {
  it("gives each pipeline the lowest free partition and sends its events to the owner only", () => {
    const { sessions, memory } = givenSessions();
    const owner = bookClient(1);
    const other = bookClient(2);
    const first = sessions.create(owner.client, {});
    const second = sessions.create(other.client, {});
    expect([first.partition, second.partition]).toEqual([0, 1]);

    const service = sessions.get(owner.client, first.id, "pipeline/play");
    service.pipeline.attachSource({ type: "audio", mimeType: "audio/mp4" });
    service.pipeline.allSourcesAttached();

    expect(names(owner.sent)).toEqual(["pipeline/networkState", "pipeline/needMediaData"]);
    expect(other.sent).toEqual([]);
    const need = owner.sent[1]?.payload as { region: { offset: number } };
    expect(need.region.offset).toBe(memory?.layout.playback[0]?.audio.offset ?? -1);
    expect(() => sessions.get(other.client, first.id, "pipeline/play")).toThrow(
      expect.objectContaining({
        code: "NOT_FOUND",
        message: `"pipeline/play": client 2 has no pipeline ${first.id}`,
      }),
    );
  });

  it("refuses past maxPlaybackSessions with RESOURCE_EXHAUSTED, and frees a partition on destroy", () => {
    const { sessions, book } = givenSessions({ maxPlaybackSessions: 1 });
    const owner = bookClient(1);
    const { id } = sessions.create(owner.client, {});
    expect(() => sessions.create(owner.client, {})).toThrow(
      expect.objectContaining({ code: "RESOURCE_EXHAUSTED" }),
    );
    sessions.destroy(owner.client, id);
    expect([sessions.size, book.inUse]).toEqual([0, 0]);
    expect(() => sessions.destroy(owner.client, id)).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
    expect(sessions.create(owner.client, {}).partition).toBe(0);
  });

  it("claims no partition without AV memory (INVALID_STATE)", () => {
    const { sessions, book } = givenSessions({ withMemory: false });
    expect(() => sessions.create(bookClient(1).client, {})).toThrow(
      expect.objectContaining({ code: "INVALID_STATE" }),
    );
    expect(book.inUse).toBe(0);
  });

  it("tells the owner playbackState Stopped before releasing its pipelines", () => {
    const { sessions, book } = givenSessions({ maxPlaybackSessions: 3 });
    const owner = bookClient(1);
    const other = bookClient(2);
    sessions.create(owner.client, {});
    sessions.create(owner.client, {});
    sessions.create(other.client, {});

    expect(sessions.releaseClient(owner.client)).toBe(2);

    expect(owner.sent.map((s) => [s.event, (s.payload as { state: string }).state])).toEqual([
      ["pipeline/playbackState", "Stopped"],
      ["pipeline/playbackState", "Stopped"],
    ]);
    expect([sessions.size, book.inUse, other.sent.length]).toEqual([1, 1, 0]);
  });

  it("holds needMediaData while the app is not Running and sends it anew when it is again", () => {
    const { sessions } = givenSessions();
    const owner = bookClient(1);
    const { id } = sessions.create(owner.client, {});
    const { pipeline } = sessions.get(owner.client, id, "test");
    pipeline.attachSource({ type: "video", mimeType: "video/h264" });

    sessions.setApplicationRunning(false);
    pipeline.allSourcesAttached();
    expect(names(owner.sent)).toEqual(["pipeline/networkState"]);

    sessions.setApplicationRunning(true);
    expect(names(owner.sent)).toEqual(["pipeline/networkState", "pipeline/needMediaData"]);
  });
});
