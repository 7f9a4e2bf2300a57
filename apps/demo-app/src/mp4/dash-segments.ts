import { readBoxes } from "./box-reader.ts";

/**
 * DASH media segments appended to their init segment (several top-level `styp`): each segment
 * behind the init segment, as a file of its own. Undefined for any other layout. ffmpeg reads
 * such a concatenation only up to the second segment's `sidx`, so the tools that check the
 * demuxer with ffprobe or ffmpeg take the segments one at a time.
 */
export function splitDashSegments(bytes: Uint8Array): Uint8Array[] | undefined {
  let starts: number[];
  try {
    const top = readBoxes("(segments)", bytes, 0, bytes.byteLength, { allowTruncatedLast: true });
    starts = top.filter((b) => b.type === "styp").map((b) => b.start);
  } catch {
    return undefined;
  }
  const [first] = starts;
  if (first === undefined || starts.length < 2) return undefined;
  const init = bytes.subarray(0, first);
  return starts.map((start, index) => {
    const segment = bytes.subarray(start, starts[index + 1] ?? bytes.byteLength);
    const part = new Uint8Array(init.byteLength + segment.byteLength);
    part.set(init);
    part.set(segment, init.byteLength);
    return part;
  });
}
