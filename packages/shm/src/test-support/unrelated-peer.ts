/**
 * An unrelated client process for the cross-user test: it shares no fd with the test,
 * finds the server by two socket paths (argv), and follows the side-channel pattern:
 * side channel first, token on the data socket, then fds on the side channel whenever the
 * data socket says they were sent. Reports its findings on the data socket as JSON lines.
 */
import { connectSideChannel } from "../fd-passing/side-channel-handshake.ts";
import { libc } from "../libc.ts";
import { SharedMemory } from "../memory/shared-memory.ts";

const [sidePath, dataPath] = process.argv.slice(2);
if (sidePath === undefined || dataPath === undefined) {
  throw new Error("usage: unrelated-peer <side> <data>");
}

const side = connectSideChannel(sidePath);
let buffered = "";

function onFdSent(): Record<string, unknown> {
  const record = side.channel.receive();
  const fd = record?.fds[0];
  if (record === undefined || fd === undefined) {
    return { type: "result", error: "no record queued" };
  }
  using memory = SharedMemory.fromFd(fd);
  let truncate = "allowed";
  try {
    libc.ftruncate(memory.fd, 0);
  } catch (error) {
    truncate = (error as { errno?: string }).errno ?? String(error);
  }
  return {
    type: "result",
    uid: process.getuid?.(),
    label: new TextDecoder().decode(record.data),
    text: new TextDecoder().decode(memory.bytes.subarray(0, memory.bytes.indexOf(0))),
    lastByte: memory.bytes[memory.size - 1],
    truncate,
  };
}

const socket = await Bun.connect({
  unix: dataPath,
  socket: {
    data(socket, chunk) {
      buffered += chunk.toString();
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        const message = JSON.parse(buffered.slice(0, end)) as { type: string };
        buffered = buffered.slice(end + 1);
        if (message.type === "fd-sent") {
          socket.end(`${JSON.stringify(onFdSent())}\n`);
          side.channel.close();
        }
      }
    },
  },
});
socket.write(`${JSON.stringify({ type: "hello", token: side.token.toHex() })}\n`);
