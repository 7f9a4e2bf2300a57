import { join } from "node:path";
import { DEMO_CLIP_PATH } from "./mp4/index.ts";

/** What a decoder must output for one track: frame count and SHA-256 of the decoded stream. */
export interface DecodedTrackReference {
  /** Decoded frames (golden values only; ffmpeg's count is not comparable frame for frame). */
  readonly frames?: number;
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

async function ffmpegSha256(path: string, stream: "v" | "a"): Promise<string | undefined> {
  const format =
    stream === "v"
      ? ["-pix_fmt", "yuv420p", "-f", "rawvideo"]
      : ["-c:a", "pcm_f32le", "-f", "f32le"];
  const decoder = Bun.spawn(
    [
      "ffmpeg",
      "-hide_banner",
      "-loglevel",
      "error",
      "-ignore_editlist",
      "1",
      "-i",
      path,
      "-map",
      `0:${stream}:0`,
      ...format,
      "-",
    ],
    { stdout: "pipe", stderr: "ignore", stdin: "ignore" },
  );
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of decoder.stdout) hasher.update(chunk);
  return (await decoder.exited) === 0 ? hasher.digest("hex") : undefined;
}

/**
 * The decoded reference for `path`: the committed golden values for the bundled clip (and the
 * encrypted clip, whose clear twin it is); for any other file, ffmpeg's own decoding when
 * ffmpeg is on PATH (hashes only: frame counts are left to the sample counts), else undefined.
 */
export async function loadDecodedReference(path: string): Promise<DecodedReference | undefined> {
  if (path === DEMO_CLIP_PATH) {
    const golden = (await Bun.file(DECODED_GOLDEN_PATH).json()) as {
      video: DecodedTrackReference;
      audio: DecodedTrackReference;
    };
    return { source: "golden", video: golden.video, audio: golden.audio };
  }
  if (Bun.which("ffmpeg") === null) return undefined;
  const [video, audio] = await Promise.all([ffmpegSha256(path, "v"), ffmpegSha256(path, "a")]);
  return {
    source: "ffmpeg",
    video: video === undefined ? undefined : { sha256: video },
    audio: audio === undefined ? undefined : { sha256: audio },
  };
}
