// A raw Bun unix-socket echo: the floor every client benchmark is compared with. Run as a
// script it is the server (a child process: `bun raw-echo.ts <socket path>`, prints "ready",
// exits when stdin closes); imported, it gives the client side.
import { serveUntilStdinCloses, socketPathArgument } from "./child-main.ts";
import { SocketWriter } from "./socket-writer.ts";

/** A client of the raw echo: round trips of a fixed message size, any number in flight. */
export interface RawEchoClient {
  /** Sends one message of `messageBytes`; resolves when as many bytes came back (FIFO). */
  roundTrip(): Promise<void>;
  close(): void;
}

/** Connects to the echo at `path`; every round trip carries `messageBytes` bytes each way. */
export async function connectRawEcho(path: string, messageBytes: number): Promise<RawEchoClient> {
  const waiting: (() => void)[] = [];
  const writer = new SocketWriter();
  let received = 0;
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data(_socket, data) {
        received += data.byteLength;
        while (received >= messageBytes) {
          received -= messageBytes;
          waiting.shift()?.();
        }
      },
      drain: (socket) => writer.drain(socket),
    },
  });
  const message = new Uint8Array(messageBytes).fill(0x78);
  return {
    roundTrip() {
      const { promise, resolve } = Promise.withResolvers<void>();
      waiting.push(resolve);
      writer.write(socket, message, true);
      return promise;
    },
    close: () => void socket.end(),
  };
}

if (import.meta.main) {
  const path = socketPathArgument("raw-echo.ts <socket path>");
  Bun.listen<SocketWriter>({
    unix: path,
    socket: {
      open: (socket) => {
        socket.data = new SocketWriter();
      },
      data: (socket, data) => socket.data.write(socket, data),
      drain: (socket) => socket.data.drain(socket),
    },
  });
  await serveUntilStdinCloses();
}
