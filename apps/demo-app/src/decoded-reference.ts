import { join } from "node:path";
import { DEMO_CLIP_PATH } from "./mp4/index.ts";

/** What a decoder must output for one track: frame count and SHA-256 of the decoded stream. */
export interface DecodedTrackReference {
  /** Decoded frames. */
  readonly frames: number;
  /** SHA-256 over the decoded output in order (video I420 packed, audio F32LE interleaved). */
  readonly sha256: string;
}

/** The decoded references of a file's tracks, and where they come from. */
export interface DecodedReference {
  /** `golden`: committed values the repo's script made with ffmpeg; `ffmpeg`: computed now. */
  readonly source: "golden" | "ffmpeg";
  readonly video?: DecodedTrackReference;
  readonly audio?: DecodedTrackReference;
}

/** `media/decoded.json`, made by `media/make-decoded-golden.sh` with ffmpeg. */
export const DECODED_GOLDEN_PATH = join(import.meta.dir, "..", "media", "decoded.json");

const FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-ignore_editlist", "1", "-i"];

/**
 * What ffmpeg decodes from one track (by its MP4 track id, ffmpeg's stream id): SHA-256 and
 * frame count, or undefined.
 */
async function ffmpegDecoding(
  path: string,
  stream: "v" | "a",
  trackId: number,
): Promise<DecodedTrackReference | undefined> {
  // Every decoded frame as it is (no frame-rate conversion), as the GStreamer engine hashes it.
  const output =
    stream === "v" ? ["-pix_fmt", "yuv420p", "-fps_mode", "passthrough"] : ["-c:a", "pcm_f32le"];
  const map = ["-map", `0:i:${trackId}`];
  const raw = Bun.spawn(
    [...FFMPEG, path, ...map, ...output, "-f", stream === "v" ? "rawvideo" : "f32le", "-"],
    {
      stdout: "pipe",
      stderr: "ignore",
    },
  );
  const perFrame = Bun.spawn([...FFMPEG, path, ...map, ...output, "-f", "framemd5", "-"], {
    stdout: "pipe",
    stderr: "ignore",
  });
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of raw.stdout) hasher.update(chunk);
  const lines = (await new Response(perFrame.stdout).text()).split("\n");
  const frames = lines.filter((line) => /^\d+,/.test(line)).length;
  const ok = (await raw.exited) === 0 && (await perFrame.exited) === 0;
  return ok && frames > 0 ? { frames, sha256: hasher.digest("hex") } : undefined;
}

/** The MP4 track ids of the tracks played, per kind. */
export interface PlayedTracks {
  readonly video?: number;
  readonly audio?: number;
}

/**
 * The decoded reference for `path`: the committed golden values for the bundled clip (and the
 * encrypted clip, whose clear twin it is); for any other file, ffmpeg's own decoding of the
 * tracks played when ffmpeg is on PATH, else undefined.
 */
export async function loadDecodedReference(
  path: string,
  tracks: PlayedTracks,
): Promise<DecodedReference | undefined> {
  if (path === DEMO_CLIP_PATH) {
    const golden = (await Bun.file(DECODED_GOLDEN_PATH).json()) as {
      video: DecodedTrackReference;
      audio: DecodedTrackReference;
    };
    return { source: "golden", video: golden.video, audio: golden.audio };
  }
  if (Bun.which("ffmpeg") === null) return undefined;
  const [video, audio] = await Promise.all([
    tracks.video === undefined ? undefined : ffmpegDecoding(path, "v", tracks.video),
    tracks.audio === undefined ? undefined : ffmpegDecoding(path, "a", tracks.audio),
  ]);
  return { source: "ffmpeg", video, audio };
}
