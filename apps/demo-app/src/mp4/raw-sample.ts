import type { AuxiliaryInfo } from "./encryption-info.ts";

/** A sample as the tables or the fragments place it, before edit lists and codec checks. */
export interface RawSample {
  /** Absolute offset of its bytes in the file. */
  readonly offset: number;
  readonly size: number;
  /** Decode time in the media timescale (no edit list applied). */
  readonly dts: number;
  /** Composition offset (`ctts` / `trun`), media timescale. */
  readonly ctsOffset: number;
  readonly duration: number;
  readonly isSync: boolean;
  /** Sample description index, 0-based. */
  readonly entryIndex: number;
  /** Its IV and subsamples (`senc`, or `saiz`/`saio`), when the track carries any. */
  readonly aux?: AuxiliaryInfo;
}
