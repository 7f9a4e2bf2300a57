const TWO_POW_32 = 0x1_0000_0000;

/**
 * Reads a little-endian i64 as a number; `undefined` when it is not a safe integer.
 * Avoids a BigInt per field on the frame hot path.
 */
export function readSafeInt64(view: DataView, offset: number): number | undefined {
  const value = view.getInt32(offset + 4, true) * TWO_POW_32 + view.getUint32(offset, true);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Writes a safe integer as a little-endian i64 (two's complement). */
export function writeInt64(view: DataView, offset: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  view.setUint32(offset, value - high * TWO_POW_32, true);
  view.setInt32(offset + 4, high, true);
}
