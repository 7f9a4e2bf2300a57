import type { Socket } from "bun";

/**
 * Writes whole buffers to a Bun socket in order, keeping what the kernel did not take for the
 * next `drain` (Bun's `write` may take only part of a large buffer).
 */
export class SocketWriter {
  readonly #pending: Uint8Array[] = [];

  /**
   * Writes `bytes`, or keeps them (after what is already kept) for {@link drain}. Kept bytes
   * are copied unless `stable` says the caller never changes them (a view into Bun's read
   * buffer is not stable).
   */
  write(socket: Socket<unknown>, bytes: Uint8Array, stable = false): void {
    const keep = (rest: Uint8Array) => this.#pending.push(stable ? rest : rest.slice());
    if (this.#pending.length > 0) {
      keep(bytes);
      return;
    }
    const written = Math.max(0, socket.write(bytes));
    if (written < bytes.byteLength) keep(bytes.subarray(written));
  }

  /** Writes what was kept, as far as the kernel takes it (call from the socket's `drain`). */
  drain(socket: Socket<unknown>): void {
    while (this.#pending.length > 0) {
      const head = this.#pending[0] as Uint8Array;
      const written = Math.max(0, socket.write(head));
      if (written < head.byteLength) {
        this.#pending[0] = head.subarray(written);
        return;
      }
      this.#pending.shift();
    }
  }
}
