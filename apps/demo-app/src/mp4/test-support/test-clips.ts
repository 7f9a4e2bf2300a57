import { join } from "node:path";

/** The directory of the demuxer's test clips (`media/test-clips`, made by make-test-clips.sh). */
export const TEST_CLIPS_DIR = join(import.meta.dir, "../../../media/test-clips");

/** The clear test clips, each with its `<name>.golden.json` (ffprobe's packets). */
export const CLEAR_TEST_CLIPS = [
  "h264-bframes-aac-mono",
  "hevc-bframes",
  "fmp4-multitrun",
  "fmp4-sidx-audio",
  "dash-init-segments",
  "opus-ac3-eac3-aac",
] as const;

/** The encrypted test clips (key in keys.json), their clear twin, scheme, pattern and pssh. */
export const ENCRYPTED_TEST_CLIPS = [
  {
    name: "cbcs-1-9",
    clear: "h264-bframes-aac-mono",
    scheme: "cbcs",
    pattern: [1, 9],
    pssh: ["9a04f07998404286ab92e65be0885f95"],
  },
  { name: "cbcs-2-8", clear: "h264-bframes-aac-mono", scheme: "cbcs", pattern: [2, 8], pssh: [] },
  {
    name: "fmp4-cenc-clear-lead",
    clear: "fmp4-multitrun",
    scheme: "cenc",
    pattern: undefined,
    pssh: ["1077efecc0b24d02ace33c1e52e2fb4b"],
  },
  {
    name: "fmp4-cbcs-2-8",
    clear: "fmp4-multitrun",
    scheme: "cbcs",
    pattern: [2, 8],
    pssh: ["9a04f07998404286ab92e65be0885f95"],
  },
] as const;

/** Reads a test clip's bytes. */
export function testClipBytes(name: string): Promise<Uint8Array> {
  return Bun.file(join(TEST_CLIPS_DIR, `${name}.mp4`)).bytes();
}
