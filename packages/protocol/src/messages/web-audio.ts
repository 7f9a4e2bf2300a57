import Type, { type Static } from "typebox";
import { defineEvent, defineMethod } from "../rpc/descriptor.ts";
import { Closed, Empty, Handle, MAX_INT32, ShmRegion, Volume, VolumeResult } from "./primitives.ts";

/**
 * Web-audio players (SPEC 9; Rialto's `IWebAudioPlayer`): raw PCM written into the player's
 * ring buffer in the AV shared memory and consumed at the PCM rate. Calls need the server
 * Active and `supportsWebAudio` (`INVALID_STATE` / `RESOURCE_EXHAUSTED`).
 */

/** A web-audio player, assigned by `webAudio/create`. */
export const PlayerId = Handle;
export type PlayerId = Static<typeof PlayerId>;

/** Frames of PCM (one sample per channel): integer 0 .. 2^31 - 1. */
export const FrameCount = Type.Integer({ minimum: 0, maximum: MAX_INT32 });
export type FrameCount = Static<typeof FrameCount>;

/** Names one player. */
export const PlayerRef = Closed({ playerId: PlayerId });
export type PlayerRef = Static<typeof PlayerRef>;

/** The PCM format of a player (Rialto's WebAudioPcmConfig). */
export const PcmConfig = Closed({
  /** Frames per second: 1 .. 768000. */
  rate: Type.Integer({ minimum: 1, maximum: 768_000 }),
  /** Interleaved channels: 1 .. 32. */
  channels: Type.Integer({ minimum: 1, maximum: 32 }),
  /** Bits per sample: 8, 16, 24, 32 or 64. */
  sampleSize: Type.Integer({ minimum: 8, maximum: 64, multipleOf: 8 }),
  isBigEndian: Type.Boolean(),
  isSigned: Type.Boolean(),
  isFloat: Type.Boolean(),
});
export type PcmConfig = Static<typeof PcmConfig>;

/** Creates a player. Fails with `RESOURCE_EXHAUSTED` past `maxWebAudioPlayers`. */
export const CreateWebAudioPlayerParams = Closed({
  /** Only raw PCM. */
  mimeType: Type.Enum(["audio/x-raw"]),
  /** Relative priority among the app's players, 0 .. 100; default 1 (informative). */
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  pcm: PcmConfig,
});
export type CreateWebAudioPlayerParams = Static<typeof CreateWebAudioPlayerParams>;

/** The answer to {@link CreateWebAudioPlayerParams}. */
export const CreateWebAudioPlayerResult = Closed({
  playerId: PlayerId,
  /** The player's ring-buffer partition in the AV shared memory (default 10 KiB). */
  region: ShmRegion,
});
export type CreateWebAudioPlayerResult = Static<typeof CreateWebAudioPlayerResult>;

/**
 * Where the next frames go in the ring: `main` first, then `wrap` (length 0 when the free space
 * does not wrap). A new call supersedes an earlier one not followed by `writeBuffer`.
 */
export const BufferAvailable = Closed({
  /** Frames that fit now. */
  availableFrames: FrameCount,
  main: ShmRegion,
  wrap: ShmRegion,
});
export type BufferAvailable = Static<typeof BufferAvailable>;

/** Commits frames written at the places `getBufferAvailable` gave (at most `availableFrames`). */
export const WriteBufferParams = Closed({ playerId: PlayerId, numberOfFrames: FrameCount });
export type WriteBufferParams = Static<typeof WriteBufferParams>;

/** Frames written but not yet played. */
export const BufferDelay = Closed({ delayFrames: FrameCount });
export type BufferDelay = Static<typeof BufferDelay>;

/** The output device as seen by a player (Rialto: preferredFrames = min(640, maximumFrames)). */
export const DeviceInfo = Closed({
  /** Frames per write the device prefers. */
  preferredFrames: FrameCount,
  /** Most frames the ring holds. */
  maximumFrames: FrameCount,
  /** Whether `play` may be called before any data was written. */
  supportDeferredPlay: Type.Boolean(),
});
export type DeviceInfo = Static<typeof DeviceInfo>;

/** Sets a player's volume, 0 .. 1. */
export const WebAudioSetVolumeParams = Closed({ playerId: PlayerId, volume: Volume });
export type WebAudioSetVolumeParams = Static<typeof WebAudioSetVolumeParams>;

/** State of a player (Rialto's WebAudioPlayerState). */
export const WebAudioPlayerState = Type.Enum([
  "Idle",
  "Playing",
  "Paused",
  "EndOfStream",
  "Failure",
]);
export type WebAudioPlayerState = Static<typeof WebAudioPlayerState>;

/** A player's state changed. */
export const WebAudioStateEvent = Closed({ playerId: PlayerId, state: WebAudioPlayerState });
export type WebAudioStateEvent = Static<typeof WebAudioStateEvent>;

/** Web-audio methods (client → session server). */
export const WebAudioMethods = {
  /** Creates a player. */
  create: defineMethod("webAudio/create", CreateWebAudioPlayerParams, CreateWebAudioPlayerResult),
  /** Where to write the next frames. */
  getBufferAvailable: defineMethod("webAudio/getBufferAvailable", PlayerRef, BufferAvailable),
  /** Commits written frames. */
  writeBuffer: defineMethod("webAudio/writeBuffer", WriteBufferParams, Empty),
  /** Starts consuming frames. */
  play: defineMethod("webAudio/play", PlayerRef, Empty),
  /** Pauses. */
  pause: defineMethod("webAudio/pause", PlayerRef, Empty),
  /** No more data: plays out what is buffered, then `EndOfStream`. */
  setEos: defineMethod("webAudio/setEos", PlayerRef, Empty),
  /** Frames buffered but not yet played. */
  getBufferDelay: defineMethod("webAudio/getBufferDelay", PlayerRef, BufferDelay),
  /** Device parameters. */
  getDeviceInfo: defineMethod("webAudio/getDeviceInfo", PlayerRef, DeviceInfo),
  /** Sets the volume. */
  setVolume: defineMethod("webAudio/setVolume", WebAudioSetVolumeParams, Empty),
  /** The volume. */
  getVolume: defineMethod("webAudio/getVolume", PlayerRef, VolumeResult),
  /** Destroys the player and frees its partition. */
  destroy: defineMethod("webAudio/destroy", PlayerRef, Empty),
} as const;

/** Web-audio events (session server → client). */
export const WebAudioEvents = {
  /** A player's state changed. */
  state: defineEvent("webAudio/state", WebAudioStateEvent),
} as const;
