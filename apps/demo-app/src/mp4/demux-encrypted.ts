import { mp4Error } from "./box-reader.ts";
import { readMp4 } from "./demux-mp4.ts";
import type { SampleEncryptionInfo } from "./encryption-info.ts";

/** One encrypted sample: its bytes as stored (a view of the file) and how to decrypt them. */
export interface EncryptedSample {
  readonly data: Uint8Array;
  readonly encryption: SampleEncryptionInfo;
}

/**
 * The samples of every track of a CENC-encrypted MP4 (`cenc` or `cbcs`), by track id, in decode
 * order, each with its encryption (IV, subsamples, key id, pattern). A thin view of
 * {@link readMp4} for callers that pair an encrypted file with its clear original.
 *
 * @throws RialtoError `INVALID_ARGUMENT` naming the file when it cannot be demuxed or a sample
 *   is not encrypted (a clear lead has no place in this view).
 */
export function demuxEncryptedMp4(
  bytes: Uint8Array,
  name = "(bytes)",
): Map<number, EncryptedSample[]> {
  const tracks = new Map<number, EncryptedSample[]>();
  for (const track of readMp4(bytes, name).tracks) {
    tracks.set(
      track.id,
      track.samples.map(({ data, encryption }, index) => {
        if (encryption === undefined) {
          throw mp4Error(name, `track ${track.id} sample ${index} is not encrypted`);
        }
        return { data, encryption };
      }),
    );
  }
  return tracks;
}
