import { type Box, BoxCursor, childBoxes, findBox } from "./box-reader.ts";
import { readAuxiliaryBoxes } from "./encryption-info.ts";
import type { RawSample } from "./raw-sample.ts";

/** Reads `count` entries of `fields` u32 each after a full-box header and an entry count. */
function table(c: BoxCursor, fields: number, what: string): number[][] {
  c.fullBoxHeader();
  const count = c.u32();
  if (count * fields * 4 > c.remaining) throw c.invalid(`${count} ${what} it has no room for`);
  return Array.from({ length: count }, () => Array.from({ length: fields }, () => c.u32()));
}

function sampleSizes(file: string, bytes: Uint8Array, boxes: readonly Box[]): number[] {
  const stsz = findBox(boxes, "stsz");
  if (stsz !== undefined) {
    const c = new BoxCursor(file, bytes, stsz);
    c.fullBoxHeader();
    const size = c.u32();
    const count = c.u32();
    if (size !== 0) {
      if (count > bytes.byteLength) throw c.invalid(`${count} samples`);
      return Array.from({ length: count }, () => size);
    }
    if (count * 4 > c.remaining) throw c.invalid(`${count} sample sizes it has no room for`);
    return Array.from({ length: count }, () => c.u32());
  }
  const stz2 = findBox(boxes, "stz2");
  if (stz2 === undefined) return [];
  const c = new BoxCursor(file, bytes, stz2);
  c.fullBoxHeader();
  const fieldSize = c.u32() & 0xff;
  const count = c.u32();
  if (![4, 8, 16].includes(fieldSize)) throw c.invalid(`a field size of ${fieldSize}`);
  if (Math.ceil((count * fieldSize) / 8) > c.remaining) throw c.invalid(`${count} sizes`);
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    if (fieldSize === 16) sizes.push(c.u16());
    else if (fieldSize === 8) sizes.push(c.u8());
    else if (i % 2 === 0) {
      const byte = c.u8();
      sizes.push(byte >> 4);
      if (i + 1 < count) sizes.push(byte & 0xf);
    }
  }
  return sizes;
}

function chunkOffsets(file: string, bytes: Uint8Array, boxes: readonly Box[]): number[] {
  const stco = findBox(boxes, "stco");
  if (stco !== undefined)
    return table(new BoxCursor(file, bytes, stco), 1, "chunks").map(([o]) => o as number);
  const co64 = findBox(boxes, "co64");
  if (co64 === undefined) return [];
  const c = new BoxCursor(file, bytes, co64);
  c.fullBoxHeader();
  const count = c.u32();
  if (count * 8 > c.remaining) throw c.invalid(`${count} chunks`);
  return Array.from({ length: count }, () => c.u64());
}

/** Runs of a (count, value) table expanded to one value per sample, `fill` past the table. */
function perSample(runs: number[][], samples: number, fill: number, signed = false): number[] {
  const values: number[] = [];
  for (const [count = 0, value = 0] of runs) {
    const v = signed ? value | 0 : value;
    for (let i = 0; i < count && values.length < samples; i++) values.push(v);
    if (values.length >= samples) break;
  }
  while (values.length < samples) values.push(fill);
  return values;
}

/**
 * The samples of a non-fragmented track from its sample table (`stsz`/`stz2`, `stco`/`co64`,
 * `stsc`, `stts`, `ctts`, `stss`) in decode order, with their auxiliary encryption information
 * (`senc`, or `saiz` + `saio`) when `ivSize` is given.
 */
export function readSampleTable(
  file: string,
  bytes: Uint8Array,
  stbl: Box,
  ivSize: number | undefined,
): RawSample[] {
  const boxes = childBoxes(file, bytes, stbl);
  const sizes = sampleSizes(file, bytes, boxes);
  if (sizes.length === 0) return [];
  const offsets = chunkOffsets(file, bytes, boxes);
  const stscBox = findBox(boxes, "stsc");
  const stsc = stscBox ? table(new BoxCursor(file, bytes, stscBox), 3, "chunk runs") : [];
  const sttsBox = findBox(boxes, "stts");
  const stts = sttsBox ? table(new BoxCursor(file, bytes, sttsBox), 2, "time runs") : [];
  const cttsBox = findBox(boxes, "ctts");
  const ctts = cttsBox ? table(new BoxCursor(file, bytes, cttsBox), 2, "offset runs") : [];
  const stssBox = findBox(boxes, "stss");
  const sync = stssBox
    ? new Set(table(new BoxCursor(file, bytes, stssBox), 1, "sync samples").map(([n]) => n))
    : undefined;
  const durations = perSample(stts, sizes.length, 0);
  const ctsOffsets = perSample(ctts, sizes.length, 0, true);
  const aux =
    ivSize === undefined
      ? undefined
      : readAuxiliaryBoxes(file, bytes, boxes, 0, ivSize, sizes.length);

  const samples: RawSample[] = [];
  let dts = 0;
  for (const [run, [firstChunk = 1, perChunk = 0, description = 1]] of stsc.entries()) {
    const nextFirst = stsc[run + 1]?.[0] ?? offsets.length + 1;
    if (firstChunk < 1 || nextFirst < firstChunk) {
      throw new BoxCursor(file, bytes, stscBox as Box).invalid(`chunk run ${run} out of order`);
    }
    const last = Math.min(nextFirst, offsets.length + 1);
    for (let chunk = firstChunk; chunk < last && samples.length < sizes.length; chunk++) {
      let offset = offsets[chunk - 1] ?? 0;
      for (let i = 0; i < perChunk && samples.length < sizes.length; i++) {
        const index = samples.length;
        const size = sizes[index] ?? 0;
        const duration = durations[index] ?? 0;
        const entryAux = aux?.[index];
        samples.push({
          offset,
          size,
          dts,
          ctsOffset: ctsOffsets[index] ?? 0,
          duration,
          isSync: sync === undefined || sync.has(index + 1),
          entryIndex: description - 1,
          ...(entryAux === undefined ? {} : { aux: entryAux }),
        });
        offset += size;
        dts += duration;
      }
    }
  }
  if (samples.length !== sizes.length) {
    throw new BoxCursor(file, bytes, stbl).invalid(
      `chunks that hold ${samples.length} of its ${sizes.length} samples`,
    );
  }
  return samples;
}
