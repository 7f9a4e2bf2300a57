import { describe, expect, it } from "bun:test";
import {
  type CreateWebAudioPlayerParams,
  RialtoError,
  WebAudioEvents,
  WebAudioMethods,
} from "@rialto/protocol";
import { FakeMediaHost } from "./test-support/fake-media-host.ts";
import { WebAudioPlayer } from "./web-audio-player.ts";

/** 3 channels of 24-bit: 9-byte frames. */
const ODD: CreateWebAudioPlayerParams = {
  mimeType: "audio/x-raw",
  pcm: {
    rate: 48_000,
    channels: 3,
    sampleSize: 24,
    isBigEndian: false,
    isSigned: true,
    isFloat: false,
  },
};
const PARTITION = { offset: 1000, length: 100 };
const CAPACITY = 11; // whole 9-byte frames in 100 bytes

/**
 * A fake server with one player (id 5) whose ring is PARTITION of a 2000-byte mapping: it keeps
 * the frame accounting as the real ring does, and `consume(n)` plays the n oldest frames.
 */
function givenServer() {
  const host = new FakeMediaHost(2000);
  let read = 0;
  let queued = 0;
  const region = (frame: number, frames: number) => ({
    offset: PARTITION.offset + frame * 9,
    length: frames * 9,
  });
  host
    .handle(WebAudioMethods.create, () => ({ playerId: 5, region: PARTITION }))
    .handle(WebAudioMethods.getBufferAvailable, () => {
      const available = CAPACITY - queued;
      const write = (read + queued) % CAPACITY;
      const main = Math.min(available, CAPACITY - write);
      return {
        availableFrames: available,
        main: region(write, main),
        wrap: region(0, available - main),
      };
    })
    .handle(WebAudioMethods.writeBuffer, ({ numberOfFrames }) => {
      if (numberOfFrames > CAPACITY - queued) throw new RialtoError("INVALID_ARGUMENT", "too many");
      queued += numberOfFrames;
      return {};
    })
    .handle(WebAudioMethods.play, () => {
      host.emit(WebAudioEvents.state, { playerId: 5, state: "Playing" });
      return {};
    })
    .handle(WebAudioMethods.getBufferDelay, () => ({ delayFrames: queued }))
    .handle(WebAudioMethods.destroy, () => ({}));
  const consume = (frames: number) => {
    read = (read + frames) % CAPACITY;
    queued -= frames;
  };
  const ring = () =>
    host.sharedMemory?.memory.bytes.subarray(PARTITION.offset, PARTITION.offset + PARTITION.length);
  return { host, consume, ring };
}

/** `frames` frames of bytes counting up from `first`. */
const pcm = (frames: number, first = 1) =>
  Uint8Array.from({ length: frames * 9 }, (_, i) => (first + i) & 0xff);

describe("WebAudioPlayer", () => {
  it("copies PCM into the ring at the write position and commits the frames", async () => {
    const { host, ring } = givenServer();
    const player = await WebAudioPlayer.create(host, ODD);
    expect([player.id, player.frameBytes, player.region]).toEqual([5, 9, PARTITION]);
    expect(await player.writeBuffer(pcm(4))).toBe(4);
    expect(ring()?.subarray(0, 36)).toEqual(pcm(4));
    expect(host.calls.at(-1)).toEqual({
      method: "webAudio/writeBuffer",
      params: { playerId: 5, numberOfFrames: 4 },
    });
    expect(await player.getBufferDelay()).toBe(4);
  });

  it("wraps around the end of the ring: the first part at the end, the rest at the start", async () => {
    const { host, consume, ring } = givenServer();
    const player = await WebAudioPlayer.create(host, ODD);
    await player.writeBuffer(pcm(8, 200));
    consume(7);
    const wrapped = pcm(7, 1);
    expect(await player.writeBuffer(wrapped)).toBe(7);
    // Frames 8, 9, 10 of the ring take the first 3 frames; frames 0 .. 3 the other 4.
    expect(ring()?.subarray(8 * 9, 11 * 9)).toEqual(wrapped.subarray(0, 27));
    expect(ring()?.subarray(0, 4 * 9)).toEqual(wrapped.subarray(27));
    expect(await player.getBufferDelay()).toBe(8);
  });

  it("writes only what fits and says how many frames that was (0 when the ring is full)", async () => {
    const { host } = givenServer();
    const player = await WebAudioPlayer.create(host, ODD);
    expect(await player.writeBuffer(pcm(15))).toBe(CAPACITY);
    expect(await player.writeBuffer(pcm(1))).toBe(0);
    expect(host.calls.filter((call) => call.method === "webAudio/writeBuffer")).toHaveLength(1);
  });

  it("runs concurrent writes one after another", async () => {
    const { host, ring } = givenServer();
    const player = await WebAudioPlayer.create(host, ODD);
    const written = await Promise.all([
      player.writeBuffer(pcm(2, 1)),
      player.writeBuffer(pcm(3, 100)),
    ]);
    expect(written).toEqual([2, 3]);
    expect(ring()?.subarray(0, 45)).toEqual(new Uint8Array([...pcm(2, 1), ...pcm(3, 100)]));
  });

  it("refuses a partial frame, and any write before the AV memory is mapped", async () => {
    const { host } = givenServer();
    const player = await WebAudioPlayer.create(host, ODD);
    await expect(player.writeBuffer(new Uint8Array(10))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "writeBuffer: 10 bytes are not whole 9-byte frames",
    });
    host.sharedMemory = undefined;
    await expect(player.writeBuffer(pcm(1))).rejects.toMatchObject({ code: "INVALID_STATE" });
  });

  it("refuses a region from the server that lies outside the player's partition", async () => {
    const { host } = givenServer();
    host.handle(WebAudioMethods.getBufferAvailable, () => ({
      availableFrames: 2,
      main: { offset: 1900, length: 18 },
      wrap: { offset: 1000, length: 0 },
    }));
    const player = await WebAudioPlayer.create(host, ODD);
    await expect(player.writeBuffer(pcm(2))).rejects.toMatchObject({ code: "PROTOCOL_ERROR" });
    expect(host.sharedMemory?.memory.bytes.subarray(1900).some((byte) => byte !== 0)).toBe(false);
  });

  it("follows its own state events and ends its life on destroy or release", async () => {
    const { host } = givenServer();
    const player = await WebAudioPlayer.create(host, ODD);
    const states: string[] = [];
    player.on("state", ({ state }) => states.push(state));
    host.emit(WebAudioEvents.state, { playerId: 6, state: "Paused" });
    await player.play();
    expect([states, player.state]).toEqual([["Playing"], "Playing"]);
    await player.destroy();
    await expect(player.play()).rejects.toMatchObject({ code: "INVALID_STATE" });
    expect(host.listenerCount(WebAudioEvents.state)).toBe(0);

    const released: number[] = [];
    const other = await WebAudioPlayer.create(host, ODD);
    other.on("released", ({ playerId }) => released.push(playerId));
    other.markReleased();
    expect([released, other.lifecycle]).toEqual([[5], "released"]);
  });
});
