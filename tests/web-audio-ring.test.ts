import { describe, expect, it, setDefaultTimeout } from "bun:test";
import type { WebAudioPlayer } from "@rialto/client";
import type { CreateWebAudioPlayerParams } from "@rialto/protocol";
import { LoggedSessionServer } from "./support/logged-session-server.ts";
import { eventually } from "./support/wait.ts";

setDefaultTimeout(30_000);

const WEB_AUDIO = { maxPlaybackSessions: 0, supportsWebAudio: true, maxWebAudioPlayers: 1 };
const RING_BYTES = 10 * 1024;

/** 3 channels of 24-bit PCM: 9-byte frames, so the 10 KiB ring holds 1137 frames (7 bytes spare). */
const ODD_FRAMES: CreateWebAudioPlayerParams = {
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

/** Stereo 16-bit at 48 kHz: a full 2560-frame ring plays for about 53 ms. */
const STEREO_48K: CreateWebAudioPlayerParams = {
  mimeType: "audio/x-raw",
  pcm: {
    rate: 48_000,
    channels: 2,
    sampleSize: 16,
    isBigEndian: false,
    isSigned: true,
    isFloat: false,
  },
};

/** Deterministic, non-repeating-looking PCM bytes. */
function pcmBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

/** Resolves when `player` reports `EndOfStream`. */
function endOfStream(player: WebAudioPlayer): Promise<void> {
  return eventually(() => player.state === "EndOfStream", `player ${player.id} EndOfStream`);
}

describe("a web-audio player's shared-memory ring, through the real client and server", () => {
  it("plays odd-sized writes that wrap around the ring, in order, to EndOfStream (freerun)", async () => {
    // Step 1: a freerun app with the checksum sink; a client maps the AV memory.
    await using server = await LoggedSessionServer.start({
      resources: WEB_AUDIO,
      playback: { clock: "freerun", sink: "checksum" },
    });
    const client = await server.connect();
    await client.setApplicationState("Running");
    const player = await client.createWebAudioPlayer(ODD_FRAMES);
    const capacity = Math.floor(RING_BYTES / player.frameBytes);
    expect(await player.getDeviceInfo()).toEqual({
      preferredFrames: 640,
      maximumFrames: capacity,
      supportDeferredPlay: true,
    });
    await player.setVolume(0.5);
    expect(await player.getVolume()).toBe(0.5);

    // Step 2: chunks of odd frame counts: several of them straddle the end of the ring.
    const chunks = [401, 333, 97, 511, 250, 1000, 7, 613, 1136, 3];
    let position = 0;
    let straddling = 0;
    for (const frames of chunks) {
      if (position + frames > capacity) straddling++;
      position = (position + frames) % capacity;
    }
    expect(straddling).toBe(3);
    const total = chunks.reduce((sum, frames) => sum + frames, 0);
    const data = pcmBytes(total * player.frameBytes, 7);

    // Step 3: play (before any data: deferred play), write every chunk, end the stream.
    await player.play();
    let at = 0;
    for (const frames of chunks) {
      const bytes = data.subarray(at, at + frames * player.frameBytes);
      expect(await player.writeBuffer(bytes)).toBe(frames);
      at += bytes.byteLength;
    }
    await player.setEos();
    await endOfStream(player);

    // Step 4: the server's device consumed exactly the bytes written, in order.
    expect(await server.logLine("web-audio player reached EndOfStream")).toMatchObject({
      playerId: player.id,
      consumedFrames: total,
      checksum: sha256(data),
    });
    await expect(player.writeBuffer(data.subarray(0, 9))).rejects.toMatchObject({
      code: "INVALID_STATE",
    });
  });

  it("fills the ring while idle, then refills it as it drains at the PCM rate (realtime)", async () => {
    // Step 1: a realtime app with the checksum sink, and a stereo 48 kHz player.
    await using server = await LoggedSessionServer.start({
      resources: WEB_AUDIO,
      playback: { clock: "realtime", sink: "checksum" },
    });
    const client = await server.connect();
    await client.setApplicationState("Running");
    const player = await client.createWebAudioPlayer(STEREO_48K);
    const capacity = RING_BYTES / player.frameBytes;
    const data = pcmBytes(7001 * player.frameBytes, 11);

    // Step 2: idle, the ring takes only what fits; a full ring takes nothing.
    let at = await player.writeBuffer(data.subarray(0, 3001 * player.frameBytes));
    expect(at).toBe(capacity);
    expect(await player.writeBuffer(data.subarray(0, player.frameBytes))).toBe(0);
    expect([await player.getBufferAvailable(), await player.getBufferDelay()]).toEqual([
      0,
      capacity,
    ]);

    // Step 3: playing, the ring drains at 48 kHz; the rest goes in as space frees up, in
    // odd-sized pieces of at most 777 frames (each write takes what is free at that moment).
    await player.play();
    const piece = 777 * player.frameBytes;
    const deadline = performance.now() + 10_000;
    while (at < 7001) {
      const start = at * player.frameBytes;
      at += await player.writeBuffer(
        data.subarray(start, Math.min(start + piece, data.byteLength)),
      );
      if (performance.now() > deadline) throw new Error(`only ${at} of 7001 frames written`);
    }
    await player.setEos();
    await endOfStream(player);

    // Step 4: everything was played, in order.
    expect(await server.logLine("web-audio player reached EndOfStream")).toMatchObject({
      consumedFrames: 7001,
      checksum: sha256(data),
    });
    expect(await player.getBufferDelay()).toBe(0);
  });
});
