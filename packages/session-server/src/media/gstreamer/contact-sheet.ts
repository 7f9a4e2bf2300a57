import type * as NodeFs from "node:fs";
import type * as NodeZlib from "node:zlib";

/** node:fs and node:zlib, loaded with the first contact sheet (a debugging aid most never use). */
const fs = (): typeof NodeFs => require("node:fs");
const zlib = (): typeof NodeZlib => require("node:zlib");

/**
 * Environment variable of the session server: when set (to a file path), each GStreamer pipeline
 * with a `checksum` or `null` sink writes a PNG contact sheet of its decoded video there when it
 * reaches end of stream or is destroyed (a debugging aid: a picture a person can look at). A
 * pipeline other than the first of the process writes `<path>.<pipelineId>.png`.
 */
export const SNAPSHOT_ENV = "RIALTO_GST_SNAPSHOT";

/** Tile width in pixels; the height keeps the aspect ratio. */
const TILE_WIDTH = 240;
const COLUMNS = 4;
const MAX_TILES = 16;
/** First spacing of the tiles in presentation time, ns; doubled whenever the sheet is full. */
const FIRST_SPACING_NS = 500_000_000;

/** One kept frame, scaled down to RGB. */
interface Tile {
  readonly ptsNs: number;
  readonly rgb: Uint8Array;
}

const clamp = (value: number) => Math.min(255, Math.max(0, value));

/** Scales an I420 frame (GStreamer's default layout) down to `width` x `height` RGB (BT.601). */
function i420ToRgb(
  bytes: Uint8Array,
  frameWidth: number,
  frameHeight: number,
  width: number,
  height: number,
): Uint8Array {
  const roundUp4 = (n: number) => Math.ceil(n / 4) * 4;
  const lumaStride = roundUp4(frameWidth);
  const chromaStride = roundUp4(Math.ceil(frameWidth / 2));
  const uOffset = lumaStride * (Math.ceil(frameHeight / 2) * 2);
  const vOffset = uOffset + chromaStride * Math.ceil(frameHeight / 2);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor((y * frameHeight) / height);
    for (let x = 0; x < width; x++) {
      const sx = Math.floor((x * frameWidth) / width);
      const luma = 1.164 * ((bytes[sy * lumaStride + sx] ?? 16) - 16);
      const chroma = (sy >> 1) * chromaStride + (sx >> 1);
      const u = (bytes[uOffset + chroma] ?? 128) - 128;
      const v = (bytes[vOffset + chroma] ?? 128) - 128;
      const at = (y * width + x) * 3;
      rgb[at] = clamp(luma + 1.596 * v);
      rgb[at + 1] = clamp(luma - 0.392 * u - 0.813 * v);
      rgb[at + 2] = clamp(luma + 2.017 * u);
    }
  }
  return rgb;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(new TextEncoder().encode(type), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, Bun.hash.crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

/** Encodes 8-bit RGB pixels as a PNG file. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8);
  // Each row starts with its filter type (0: none).
  const rows = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    rows.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  }
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", zlib().deflateSync(rows)),
    pngChunk("IEND", new Uint8Array(0)),
  ];
  const png = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    png.set(part, offset);
    offset += part.length;
  }
  return png;
}

/**
 * Keeps up to 16 decoded video frames spread over the stream (every 0.5 s of presentation time,
 * then every 1 s, 2 s, ... as the sheet fills) and writes them as one PNG, 4 tiles a row.
 */
export class ContactSheet {
  readonly #path: string;
  #tiles: Tile[] = [];
  #spacingNs = FIRST_SPACING_NS;
  #tileHeight = 0;
  #written = false;

  constructor(path: string) {
    this.#path = path;
  }

  /** Offers one decoded I420 frame; kept when it is due. */
  offer(bytes: Uint8Array, width: number, height: number, ptsNs: number): void {
    if (width <= 0 || height <= 0) return;
    const last = this.#tiles.at(-1);
    if (last !== undefined && ptsNs < last.ptsNs + this.#spacingNs) return;
    if (this.#tileHeight === 0)
      this.#tileHeight = Math.max(2, Math.round((height * TILE_WIDTH) / width));
    this.#tiles.push({ ptsNs, rgb: i420ToRgb(bytes, width, height, TILE_WIDTH, this.#tileHeight) });
    if (this.#tiles.length > MAX_TILES) {
      this.#spacingNs *= 2;
      this.#tiles = this.#tiles.filter((_, i) => i % 2 === 0);
    }
  }

  /** Writes the sheet once (later calls do nothing); nothing when no frame was kept. */
  write(): void {
    if (this.#written || this.#tiles.length === 0) return;
    this.#written = true;
    const tileHeight = this.#tileHeight;
    const rows = Math.ceil(this.#tiles.length / COLUMNS);
    const width = TILE_WIDTH * COLUMNS;
    const height = tileHeight * rows;
    const sheet = new Uint8Array(width * height * 3);
    this.#tiles.forEach((tile, index) => {
      const left = (index % COLUMNS) * TILE_WIDTH;
      const top = Math.floor(index / COLUMNS) * tileHeight;
      for (let y = 0; y < tileHeight; y++) {
        const row = tile.rgb.subarray(y * TILE_WIDTH * 3, (y + 1) * TILE_WIDTH * 3);
        sheet.set(row, ((top + y) * width + left) * 3);
      }
    });
    fs().writeFileSync(this.#path, encodePng(sheet, width, height));
  }
}
