import { afterEach, describe, expect, it } from "bun:test";
import type { CreateWebAudioPlayerParams, PlaybackOptions, Resources } from "@rialto/protocol";
import pino from "pino";
import { AvMemory } from "../av-memory.ts";
import { ManualClock } from "../media/test-support/manual-clock.ts";
import { rejectionOf } from "../test-support/rejection.ts";
import { bookClient } from "./test-support/book-client.ts";
import { WebAudioBook } from "./web-audio-book.ts";

/** Stereo 16-bit at 1000 frames/s: 4-byte frames, 2560 of them in a 10 KiB partition. */
const STEREO: CreateWebAudioPlayerParams = {
  mimeType: "audio/x-raw",
  pcm: {
    rate: 1000,
    channels: 2,
    sampleSize: 16,
    isBigEndian: false,
    isSigned: true,
    isFloat: false,
  },
};

const memories: AvMemory[] = [];
afterEach(() => {
  for (const memory of memories.splice(0)) memory.close();
});

/** A book over a real AV memfd sized for `resources`, with a manual clock and captured logs. */
function givenBook(
  resources: Partial<Resources> = {},
  playback: PlaybackOptions = { clock: "realtime", sink: "null" },
) {
  const all: Resources = {
    maxPlaybackSessions: 1,
    supportsWebAudio: true,
    maxWebAudioPlayers: 2,
    ...resources,
  };
  const memory = AvMemory.allocate(all);
  memories.push(memory);
  const logs: Record<string, unknown>[] = [];
  const logger = pino({}, { write: (line: string) => logs.push(JSON.parse(line)) });
  const clock = new ManualClock();
  const book = new WebAudioBook({ logger, resources: all, playback, clock });
  return { book, memory, logs, clock };
}

const failure = (run: () => unknown) => rejectionOf(Promise.try(run));

describe("WebAudioBook", () => {
  it("gives each player the lowest free web-audio partition, up to maxWebAudioPlayers", async () => {
    const { book, memory } = givenBook();
    const { client } = bookClient(1);
    const first = book.create(client, STEREO, memory);
    const second = book.create(client, STEREO, memory);
    const partitions = memory.layout.webAudio.map((p) => ({ offset: p.offset, length: p.length }));
    expect([first.region, second.region]).toEqual(partitions);

    const error = await failure(() => book.create(client, STEREO, memory));
    expect([error.code, error.message, error.details]).toEqual([
      "RESOURCE_EXHAUSTED",
      '"webAudio/create": all 2 web-audio players are in use (maxWebAudioPlayers 2)',
      { maxWebAudioPlayers: 2 },
    ]);
    book.destroy(client, first.playerId);
    expect(book.create(client, STEREO, memory).region).toEqual(first.region);
  });

  it("refuses every player with PERMISSION_DENIED when supportsWebAudio is false", async () => {
    const { book, memory } = givenBook({ supportsWebAudio: false });
    const error = await failure(() => book.create(bookClient(1).client, STEREO, memory));
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.message).toContain("supportsWebAudio false");
  });

  it("refuses a bad PCM config with INVALID_ARGUMENT and keeps the partition free", async () => {
    const { book, memory } = givenBook({ maxWebAudioPlayers: 1 });
    const { client } = bookClient(1);
    const unsignedFloat = {
      ...STEREO,
      pcm: { ...STEREO.pcm, sampleSize: 32, isFloat: true, isSigned: false },
    };
    expect((await failure(() => book.create(client, unsignedFloat, memory))).code).toBe(
      "INVALID_ARGUMENT",
    );
    expect(book.inUse).toBe(0);
    book.create(client, STEREO, memory);
  });

  it("plays PCM from the partition at the PCM rate and sends state events to the owner", () => {
    const { book, memory, clock } = givenBook();
    const owner = bookClient(1);
    const { playerId } = book.create(owner.client, STEREO, memory);
    const player = book.player(owner.client, playerId, "test");
    player.writeBuffer(100);
    player.play();
    clock.advance(50);
    expect(player.getBufferDelay()).toEqual({ delayFrames: 50 });
    player.setEos();
    clock.advance(50);
    expect(owner.sent).toEqual([
      { event: "webAudio/state", payload: { playerId, state: "Playing" } },
      { event: "webAudio/state", payload: { playerId, state: "EndOfStream" } },
    ]);
  });

  it("logs the SHA-256 of the consumed PCM at EndOfStream with the checksum sink", () => {
    const { book, memory, logs } = givenBook({}, { clock: "freerun", sink: "checksum" });
    const { client } = bookClient(1);
    const { playerId, region } = book.create(client, STEREO, memory);
    const pcm = Uint8Array.from({ length: 40 }, (_, i) => i * 7);
    const player = book.player(client, playerId, "test");
    const { main } = player.getBufferAvailable();
    expect(main.offset).toBe(region.offset);
    memory.memory.bytes.set(pcm, main.offset);
    player.writeBuffer(10);
    player.play();
    player.setEos();
    expect(logs.find((line) => line.msg === "web-audio player reached EndOfStream")).toMatchObject({
      clientId: 1,
      playerId,
      consumedFrames: 10,
      consumedBytes: 40,
      checksum: new Bun.CryptoHasher("sha256").update(pcm).digest("hex"),
    });
  });

  it("answers NOT_FOUND for a player of another client", async () => {
    const { book, memory } = givenBook();
    const { playerId } = book.create(bookClient(1).client, STEREO, memory);
    const error = await failure(() => book.player(bookClient(2).client, playerId, "webAudio/play"));
    expect([error.code, error.message]).toEqual([
      "NOT_FOUND",
      `"webAudio/play": client 2 has no web-audio player ${playerId}`,
    ]);
  });

  it("releases one client's players, stopping their timers and freeing their partitions", async () => {
    const { book, memory, clock } = givenBook();
    const owner = bookClient(1);
    const other = bookClient(2);
    const { playerId } = book.create(owner.client, STEREO, memory);
    book.create(other.client, STEREO, memory);
    const player = book.player(owner.client, playerId, "test");
    player.writeBuffer(10);
    player.play();
    expect(clock.pendingTimers).toBe(1);

    expect(book.releaseClient(owner.client.id)).toBe(1);
    expect([book.inUse, clock.pendingTimers]).toEqual([1, 0]);
    expect((await failure(() => book.player(owner.client, playerId, "test"))).code).toBe(
      "NOT_FOUND",
    );
    book.create(other.client, STEREO, memory);
  });
});
