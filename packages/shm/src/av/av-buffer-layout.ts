import { ShmError } from "../errors.ts";
import {
  AV_AUDIO_REGION_SIZE,
  AV_MAX_PARTITIONS,
  AV_REGION_ALIGN,
  AV_SUBTITLE_REGION_SIZE,
  AV_VIDEO_REGION_SIZE,
  AV_WEB_AUDIO_REGION_SIZE,
} from "../layout.ts";

/** A byte range of the AV buffer. */
export interface AvRegion {
  /** Offset from the start of the AV buffer, in bytes. */
  readonly offset: number;
  /** Length in bytes (the wire's `ShmRegion.length`). */
  readonly length: number;
}

/** The partition of one playback session: video, then audio, then subtitle. */
export interface PlaybackPartition extends AvRegion {
  /** Partition index, 0 .. maxPlaybackSessions - 1. */
  readonly index: number;
  /** Region for video frames. */
  readonly video: AvRegion;
  /** Region for audio frames. */
  readonly audio: AvRegion;
  /** Region for subtitle frames. */
  readonly subtitle: AvRegion;
}

/** The partition of one web-audio player (its PCM ring). */
export interface WebAudioPartition extends AvRegion {
  /** Partition index, 0 .. maxWebAudioPlayers - 1. */
  readonly index: number;
}

/** Where everything lives in the AV buffer. */
export interface AvBufferLayout {
  /** Bytes the AV buffer needs (0 when there are no partitions). */
  readonly totalSize: number;
  /** One partition per playback session, in index order, starting at offset 0. */
  readonly playback: readonly PlaybackPartition[];
  /** One partition per web-audio player, after all playback partitions. */
  readonly webAudio: readonly WebAudioPartition[];
}

/** Resources the layout is computed from (the SetConfiguration resources). */
export interface AvResources {
  /** Number of playback sessions, 0 to 256. */
  readonly maxPlaybackSessions: number;
  /** Number of web-audio players, 0 to 256 (0 when web audio is not supported). */
  readonly maxWebAudioPlayers: number;
}

/** Region sizes in bytes; each a positive multiple of 8. */
export interface AvRegionSizes {
  /** Video region per playback session; default 7 MiB. */
  readonly video: number;
  /** Audio region per playback session; default 1 MiB. */
  readonly audio: number;
  /** Subtitle region per playback session; default 256 KiB. */
  readonly subtitle: number;
  /** Partition per web-audio player; default 10 KiB. */
  readonly webAudio: number;
}

/** Rialto's default region sizes. */
export const DEFAULT_AV_REGION_SIZES: AvRegionSizes = {
  video: AV_VIDEO_REGION_SIZE,
  audio: AV_AUDIO_REGION_SIZE,
  subtitle: AV_SUBTITLE_REGION_SIZE,
  webAudio: AV_WEB_AUDIO_REGION_SIZE,
};

function validateCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > AV_MAX_PARTITIONS) {
    throw new ShmError(
      "INVALID_ARGUMENT",
      `${name} ${value} is not an integer 0..${AV_MAX_PARTITIONS}`,
    );
  }
}

function validateRegionSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0 || value % AV_REGION_ALIGN !== 0) {
    throw new ShmError(
      "INVALID_ARGUMENT",
      `${name} region size ${value} is not a positive multiple of ${AV_REGION_ALIGN}`,
    );
  }
}

/**
 * Computes the AV buffer layout from the resources: playback partitions first (each video,
 * audio, subtitle, back to back), then web-audio partitions. Pure; the defaults give
 * 8,650,752 bytes per playback session and 10,240 per web-audio player.
 */
export function computeAvBufferLayout(
  resources: AvResources,
  sizes: Partial<AvRegionSizes> = {},
): AvBufferLayout {
  validateCount("maxPlaybackSessions", resources.maxPlaybackSessions);
  validateCount("maxWebAudioPlayers", resources.maxWebAudioPlayers);
  const region = { ...DEFAULT_AV_REGION_SIZES, ...sizes };
  for (const [name, value] of Object.entries(region)) validateRegionSize(name, value);

  const playback: PlaybackPartition[] = [];
  let offset = 0;
  for (let index = 0; index < resources.maxPlaybackSessions; index++) {
    const video = { offset, length: region.video };
    const audio = { offset: video.offset + video.length, length: region.audio };
    const subtitle = { offset: audio.offset + audio.length, length: region.subtitle };
    const length = region.video + region.audio + region.subtitle;
    playback.push({ index, offset, length, video, audio, subtitle });
    offset += length;
  }
  const webAudio: WebAudioPartition[] = [];
  for (let index = 0; index < resources.maxWebAudioPlayers; index++) {
    webAudio.push({ index, offset, length: region.webAudio });
    offset += region.webAudio;
  }
  if (!Number.isSafeInteger(offset)) {
    throw new ShmError("INVALID_ARGUMENT", `AV buffer of ${offset} bytes is too large`);
  }
  return { totalSize: offset, playback, webAudio };
}
