import { describe, expect, it } from "bun:test";
import type { PcmConfig, WebAudioPlayerState } from "@rialto/protocol";
import { ManualClock } from "../media/test-support/manual-clock.ts";
import { rejectionOf } from "../test-support/rejection.ts";
import { WebAudioRenderer, type WebAudioRendererOptions } from "./web-audio-renderer.ts";

/** 3 channels of 24-bit: 9-byte frames, so a 10 KiB ring holds 1137 frames and 7 bytes spare. */
const ODD_PCM: PcmConfig = {
  rate: 1000,
  channels: 3,
  sampleSize: 24,
  isBigEndian: false,
  isSigned: true,
  isFloat: false,
};
const RING_BYTES = 10 * 1024;
const RING_OFFSET = 4096;

/** A player on a 10 KiB ring at offset 4096 of a fake AV mapping, with a manual clock. */
function givenPlayer(options: Partial<WebAudioRendererOptions> = {}) {
  const clock = new ManualClock();
  const mapping = new Uint8Array(RING_OFFSET + RING_BYTES + 100);
  const states: WebAudioPlayerState[] = [];
  const played: number[] = [];
  const player = new WebAudioRenderer({
    playerId: 3,
    pcm: ODD_PCM,
    ring: mapping.subarray(RING_OFFSET, RING_OFFSET + RING_BYTES),
    ringOffset: RING_OFFSET,
    clock,
    onState: (event) => {
      expect(event.playerId).toBe(3);
      states.push(event.state);
    },
    onPcm: (pcm) => played.push(...pcm),
    ...options,
  });
  let nextByte = 0;
  const sent: number[] = [];
  /** Writes `frames` frames of counting bytes where the player says, then commits them. */
  const write = (frames: number) => {
    const { main, wrap } = player.getBufferAvailable();
    const bytes = frames * player.format.frameBytes;
    for (let i = 0; i < bytes; i++) {
      const value = nextByte++ & 0xff;
      mapping[i < main.length ? main.offset + i : wrap.offset + i - main.length] = value;
      sent.push(value);
    }
    player.writeBuffer(frames);
  };
  return { player, clock, mapping, states, played, sent, write };
}

const refusal = (run: () => unknown) => rejectionOf(Promise.try(run));

describe("WebAudioRenderer ring", () => {
  it("reports the device: 1137 frames of 9 bytes, 640 preferred, deferred play", () => {
    const { player } = givenPlayer();
    expect(player.getDeviceInfo()).toEqual({
      preferredFrames: 640,
      maximumFrames: 1137,
      supportDeferredPlay: true,
    });
  });

  it("wraps around the ring with 9-byte frames and plays every byte in order", () => {
    const { player, clock, played, sent, write } = givenPlayer();
    write(1000);
    player.play();
    clock.advance(700);
    expect(player.getBufferAvailable()).toEqual({
      availableFrames: 837,
      main: { offset: RING_OFFSET + 1000 * 9, length: 137 * 9 },
      wrap: { offset: RING_OFFSET, length: 700 * 9 },
    });
    write(837);
    expect(player.getBufferDelay()).toEqual({ delayFrames: 1137 });
    clock.advance(1137);
    expect(player.getBufferDelay()).toEqual({ delayFrames: 0 });
    expect(played.length).toBe(1837 * 9);
    expect(played).toEqual(sent);
  });

  it("refuses writes larger than the free space with INVALID_ARGUMENT", async () => {
    const { player, write } = givenPlayer();
    const tooMany = await refusal(() => player.writeBuffer(1138));
    expect([tooMany.code, tooMany.message]).toEqual([
      "INVALID_ARGUMENT",
      "writeBuffer: numberOfFrames 1138 is more than the 1137 frames available",
    ]);
    write(1000);
    expect((await refusal(() => player.writeBuffer(138))).message).toContain(
      "138 is more than the 137",
    );
    expect(player.getBufferDelay()).toEqual({ delayFrames: 1000 });
  });

  it("refuses a frame larger than the ring", async () => {
    const pcm = { ...ODD_PCM, channels: 32, sampleSize: 64 };
    const error = await refusal(() => givenPlayer({ pcm, ring: new Uint8Array(255) }));
    expect(error.message).toContain("a 256-byte frame does not fit the 255-byte ring");
  });
});

describe("WebAudioRenderer timing", () => {
  it("counts queued frames as delay and consumes them at the PCM rate only while playing", () => {
    const { player, clock, write } = givenPlayer({ pcm: { ...ODD_PCM, rate: 48_000 } });
    write(480);
    clock.advance(50);
    expect(player.getBufferDelay().delayFrames).toBe(480);
    player.play();
    clock.advance(2.5);
    expect(player.getBufferDelay().delayFrames).toBe(360);
    player.pause();
    clock.advance(100);
    expect(player.getBufferDelay().delayFrames).toBe(360);
    player.play();
    clock.advance(5);
    expect(player.getBufferDelay().delayFrames).toBe(120);
    clock.advance(2.5);
    expect(player.getBufferDelay().delayFrames).toBe(0);
  });

  it("keeps 44.1 kHz pacing exact over many small steps", () => {
    const { player, clock, write } = givenPlayer({ pcm: { ...ODD_PCM, rate: 44_100 } });
    write(1137);
    player.play();
    for (let ms = 0; ms < 20; ms++) clock.advance(1);
    expect(player.getBufferDelay().delayFrames).toBe(1137 - 882);
  });

  it("starts pacing when data arrives after playing an empty ring (no banked time)", () => {
    const { player, clock, write } = givenPlayer();
    player.play();
    clock.advance(500);
    write(100);
    clock.advance(50);
    expect(player.getBufferDelay().delayFrames).toBe(50);
  });

  it("plays out on the system clock and reaches EndOfStream without being polled", async () => {
    const ended = Promise.withResolvers<void>();
    const { player, write } = givenPlayer({
      clock: undefined,
      pcm: { ...ODD_PCM, rate: 48_000 },
      onState: (event) => {
        if (event.state === "EndOfStream") ended.resolve();
      },
    });
    write(480);
    player.play();
    player.setEos();
    const deadline = setTimeout(() => ended.reject(new Error("no EndOfStream within 2 s")), 2000);
    await ended.promise.finally(() => clearTimeout(deadline));
    expect(player.getBufferDelay().delayFrames).toBe(0);
  });

  it("consumes everything at once with the freerun clock", () => {
    const { player, played, write, states } = givenPlayer({ clockKind: "freerun" });
    player.play();
    write(300);
    expect(player.getBufferDelay().delayFrames).toBe(0);
    expect(played.length).toBe(2700);
    player.setEos();
    expect(states).toEqual(["Playing", "EndOfStream"]);
  });
});

describe("WebAudioRenderer states", () => {
  it("reaches EndOfStream by itself once the frames queued before setEos are played", async () => {
    const { player, clock, states, write } = givenPlayer();
    write(100);
    player.play();
    player.setEos();
    clock.advance(99);
    expect(states).toEqual(["Playing"]);
    clock.advance(1);
    expect(states).toEqual(["Playing", "EndOfStream"]);
    expect(clock.pendingTimers).toBe(0);
    expect((await refusal(() => player.writeBuffer(1))).code).toBe("INVALID_STATE");
    expect((await refusal(() => player.play())).message).toBe("play: player 3 is in EndOfStream");
  });

  it("refuses data after setEos and ends only once playing", async () => {
    const { player, states, write } = givenPlayer();
    write(10);
    player.pause();
    player.setEos();
    expect((await refusal(() => player.writeBuffer(1))).message).toContain("setEos");
    expect(states).toEqual(["Paused"]);
    player.play();
    expect(states).toEqual(["Paused", "Playing"]);
  });

  it("ends at once when setEos comes with an empty ring while playing", () => {
    const { player, states } = givenPlayer();
    player.play();
    player.play();
    player.setEos();
    expect(states).toEqual(["Playing", "EndOfStream"]);
  });

  it("goes to Failure when the output device fails", async () => {
    const { player, clock, states, write } = givenPlayer({
      onPcm: () => {
        throw new Error("device gone");
      },
    });
    write(10);
    player.play();
    clock.advance(10);
    expect(states).toEqual(["Playing", "Failure"]);
    expect((await refusal(() => player.pause())).code).toBe("INVALID_STATE");
  });

  it("keeps a volume of 0 .. 1", async () => {
    const { player } = givenPlayer();
    expect(player.getVolume()).toBe(1);
    player.setVolume(0.25);
    expect(player.getVolume()).toBe(0.25);
    for (const bad of [1.5, -0.1, Number.NaN]) {
      expect((await refusal(() => player.setVolume(bad))).code).toBe("INVALID_ARGUMENT");
    }
    expect(player.getVolume()).toBe(0.25);
  });

  it("stops its timer when destroyed and refuses calls afterwards", async () => {
    const { player, clock, write } = givenPlayer();
    write(500);
    player.play();
    expect(clock.pendingTimers).toBe(1);
    {
      using disposed = player;
      expect(disposed.state).toBe("Playing");
    }
    expect(clock.pendingTimers).toBe(0);
    expect((await refusal(() => player.play())).message).toBe("play: player 3 is destroyed");
  });
});
