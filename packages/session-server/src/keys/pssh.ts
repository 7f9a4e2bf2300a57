import { RialtoError } from "@rialto/protocol";
import { KEY_BYTES, toHex } from "./key-bytes.ts";

/** The W3C Common PSSH system id (`1077efec-c0b2-4d02-ace3-3c1e52e2fb4b`), the one ClearKey reads. */
export const COMMON_SYSTEM_ID = "1077efecc0b24d02ace33c1e52e2fb4b";

/** One Protection System Specific Header box (ISO/IEC 23001-7 section 8.1). */
export interface PsshBox {
  /** Box version: 0 (no key ids) or 1 (key ids listed); other versions are skipped unread. */
  readonly version: number;
  /** System id as 32 lowercase hex digits. */
  readonly systemId: string;
  /** Key ids (16 bytes each) of a version-1 box; empty for version 0. */
  readonly keyIds: readonly Uint8Array[];
  /** The system-specific data (a copy). */
  readonly data: Uint8Array;
}

const BOX_HEADER = 8;
const FULL_HEADER = 4;
const SYSTEM_ID_BYTES = 16;

function invalid(detail: string): never {
  throw new RialtoError("INVALID_ARGUMENT", `generateRequest: cenc init data ${detail}`);
}

/**
 * Parses `cenc` init data: one or more concatenated `pssh` boxes. Every size and count is checked
 * against the bytes actually there before it is used, so garbage is `INVALID_ARGUMENT` (naming the
 * offset and the bad value), never an out-of-range read or a huge allocation. Boxes of a version
 * above 1 are returned with no key ids (their layout is unknown). `maxKeyIds` bounds the total
 * number of key ids (default 128).
 */
export function parsePsshBoxes(initData: Uint8Array, maxKeyIds = 128): PsshBox[] {
  if (initData.byteLength === 0) invalid("is empty");
  const view = new DataView(initData.buffer, initData.byteOffset, initData.byteLength);
  const boxes: PsshBox[] = [];
  let keyIdCount = 0;
  let at = 0;
  while (at < initData.byteLength) {
    const left = initData.byteLength - at;
    if (left < BOX_HEADER) invalid(`has ${left} trailing bytes at offset ${at}, too few for a box`);
    const type = String.fromCharCode(...initData.subarray(at + 4, at + 8));
    if (type !== "pssh") invalid(`has a ${JSON.stringify(type)} box at offset ${at}, not pssh`);
    let size = view.getUint32(at);
    let header = BOX_HEADER;
    if (size === 1) {
      if (left < BOX_HEADER + 8) invalid(`box at offset ${at} is cut inside its 64-bit size`);
      const high = view.getUint32(at + 8);
      if (high !== 0) invalid(`box at offset ${at} claims more than 4 GiB`);
      size = view.getUint32(at + 12);
      header += 8;
    } else if (size === 0) {
      size = left;
    }
    if (size > left) invalid(`box at offset ${at} claims ${size} bytes; ${left} remain`);
    const end = at + size;
    let cursor = at + header;
    const need = (bytes: number, what: string) => {
      if (cursor + bytes > end)
        invalid(`box at offset ${at} (size ${size}) is too short for ${what}`);
    };
    need(FULL_HEADER + SYSTEM_ID_BYTES, "its version, flags and system id");
    const version = initData[cursor] ?? 0;
    cursor += FULL_HEADER;
    const systemId = toHex(initData.subarray(cursor, cursor + SYSTEM_ID_BYTES));
    cursor += SYSTEM_ID_BYTES;
    if (version > 1) {
      boxes.push({ version, systemId, keyIds: [], data: new Uint8Array(0) });
      at = end;
      continue;
    }
    const keyIds: Uint8Array[] = [];
    if (version === 1) {
      need(4, "its key id count");
      const count = view.getUint32(cursor);
      cursor += 4;
      need(count * KEY_BYTES, `${count} key ids`);
      keyIdCount += count;
      if (keyIdCount > maxKeyIds) invalid(`lists more than ${maxKeyIds} key ids`);
      for (let index = 0; index < count; index++) {
        keyIds.push(new Uint8Array(initData.subarray(cursor, cursor + KEY_BYTES)));
        cursor += KEY_BYTES;
      }
    }
    need(4, "its data size");
    const dataSize = view.getUint32(cursor);
    cursor += 4;
    if (cursor + dataSize !== end) {
      invalid(
        `box at offset ${at} (size ${size}) has data size ${dataSize}; ${end - cursor} remain`,
      );
    }
    boxes.push({ version, systemId, keyIds, data: new Uint8Array(initData.subarray(cursor, end)) });
    at = end;
  }
  return boxes;
}
