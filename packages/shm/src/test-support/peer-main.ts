/**
 * Child process of the cross-process tests. Commands arrive over Bun IPC (the
 * notification channel); fds arrive on the FdChannel at fd 3 (`--fd3`).
 */
import { FdChannel } from "../fd-passing/fd-channel.ts";
import { libc } from "../libc.ts";
import { SharedMemory } from "../memory/shared-memory.ts";
import { ShmPoolView } from "../pool/shm-pool-view.ts";
import type { PeerCommand, PeerReply } from "./peer-process.ts";

const channel = process.argv.includes("--fd3") ? FdChannel.fromFd(3) : undefined;
const owned: SharedMemory[] = [];
let mapped: SharedMemory | undefined;

function takeFd(): number {
  const record = channel?.receive();
  const fd = record?.fds[0];
  if (record === undefined || fd === undefined) throw new Error("no fd queued on the side channel");
  return fd;
}

function requireMapped(): SharedMemory {
  if (mapped === undefined) throw new Error("nothing mapped yet");
  return mapped;
}

function handle(command: PeerCommand): PeerReply {
  switch (command.op) {
    case "map":
      mapped = SharedMemory.fromFd(takeFd());
      return { size: mapped.size };
    case "read": {
      const bytes = requireMapped().bytes.subarray(command.offset, command.offset + command.length);
      return { text: new TextDecoder().decode(bytes) };
    }
    case "write":
      requireMapped().bytes.set(new TextEncoder().encode(command.text), command.offset);
      return {};
    case "truncate":
      try {
        libc.ftruncate(requireMapped().fd, command.size);
        return { truncated: true };
      } catch (error) {
        return { truncated: false, errno: (error as { errno?: string }).errno ?? String(error) };
      }
    case "create-and-send": {
      const memory = SharedMemory.create(command.size, { name: "peer-created" });
      memory.bytes.set(new TextEncoder().encode(command.text));
      owned.push(memory);
      channel?.sendFds([memory.fd]);
      return { sent: true };
    }
    case "pool-answer": {
      using view = ShmPoolView.fromFd(takeFd());
      const block = view.block(command.offset, command.length);
      const end = block.indexOf(0);
      const request = new TextDecoder().decode(block.subarray(0, end < 0 ? block.length : end));
      block.fill(0);
      block.set(new TextEncoder().encode(command.text));
      return { request };
    }
  }
}

process.on("message", (command: PeerCommand) => {
  try {
    process.send?.(handle(command));
  } catch (error) {
    const shm = error as { code?: string; errno?: string; message?: string };
    process.send?.({ error: shm.code ?? "Error", errno: shm.errno, message: shm.message });
  }
});
process.send?.({ ready: true, uid: process.getuid?.() });
