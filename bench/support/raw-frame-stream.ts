// Frames sent inline over a raw Bun unix socket, with the needMediaData rhythm (one batch
// outstanding, the next one sent when the receiver answered): the socket baseline of
// av-throughput. Run as a script it is the receiver (a child process: `bun
// raw-frame-stream.ts <socket path>`, prints "ready", exits when stdin closes): for each batch
// (a u32 little-endian byte count, then the bytes) it reads every byte out of the kernel (that
// copy stands for the session server copying frames out of shared memory) and answers with
// the u32 count once the batch is complete. Imported, it gives the sending side.
import { serveUntilStdinCloses, socketPathArgument } from "./child-main.ts";
import { SocketWriter } from "./socket-writer.ts";

const HEADER_BYTES = 4;

/** The sending side: one batch in flight at a time. */
export interface RawFrameSender {
  /** Sends `frames` as one batch; resolves when the receiver answered that it read them all. */
  sendBatch(frames: readonly Uint8Array[]): Promise<void>;
  close(): void;
}

/** Connects to the receiver at `path`. */
export async function connectRawFrameSender(path: string): Promise<RawFrameSender> {
  const writer = new SocketWriter();
  let answered: ((bytes: number) => void) | undefined;
  let answer: Uint8Array = new Uint8Array(0);
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data(_socket, data) {
        answer = concat(answer, data);
        while (answer.byteLength >= HEADER_BYTES) {
          const bytes = new DataView(answer.buffer, answer.byteOffset).getUint32(0, true);
          answer = answer.slice(HEADER_BYTES);
          answered?.(bytes);
        }
      },
      drain: (socket) => writer.drain(socket),
    },
  });
  const header = new DataView(new ArrayBuffer(HEADER_BYTES));
  return {
    async sendBatch(frames) {
      const total = frames.reduce((sum, frame) => sum + frame.byteLength, 0);
      const { promise, resolve } = Promise.withResolvers<number>();
      answered = resolve;
      header.setUint32(0, total, true);
      writer.write(socket, new Uint8Array(header.buffer));
      for (const frame of frames) writer.write(socket, frame, true);
      const read = await promise;
      if (read !== total) throw new Error(`receiver read ${read} bytes of a ${total}-byte batch`);
    },
    close: () => void socket.end(),
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b.slice();
  const joined = new Uint8Array(a.byteLength + b.byteLength);
  joined.set(a);
  joined.set(b, a.byteLength);
  return joined;
}

/** Receiver state of one connection: the header being read, then the batch's bytes. */
class BatchReader {
  readonly #header = new Uint8Array(HEADER_BYTES);
  #headerFilled = 0;
  #remaining = -1;
  #total = 0;

  /** Takes a chunk; returns the byte counts of the batches it completed. */
  take(chunk: Uint8Array): number[] {
    const done: number[] = [];
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#remaining < 0) {
        const take = Math.min(HEADER_BYTES - this.#headerFilled, chunk.byteLength - at);
        this.#header.set(chunk.subarray(at, at + take), this.#headerFilled);
        this.#headerFilled += take;
        at += take;
        if (this.#headerFilled < HEADER_BYTES) break;
        this.#headerFilled = 0;
        this.#total = new DataView(this.#header.buffer).getUint32(0, true);
        this.#remaining = this.#total;
      }
      const take = Math.min(this.#remaining, chunk.byteLength - at);
      at += take;
      this.#remaining -= take;
      if (this.#remaining === 0) {
        done.push(this.#total);
        this.#remaining = -1;
      }
    }
    return done;
  }
}

if (import.meta.main) {
  const path = socketPathArgument("raw-frame-stream.ts <socket path>");
  Bun.listen<BatchReader>({
    unix: path,
    socket: {
      open(socket) {
        socket.data = new BatchReader();
      },
      data(socket, chunk) {
        for (const bytes of socket.data.take(chunk)) {
          const answer = new DataView(new ArrayBuffer(HEADER_BYTES));
          answer.setUint32(0, bytes, true);
          socket.write(new Uint8Array(answer.buffer));
        }
      },
    },
  });
  await serveUntilStdinCloses();
}
