import { FdChannel, pollReadable } from "@rialto/shm";
import type { ParkedWatchCommand, ParkedWatchReport } from "./parked-socket-watch.ts";

// The thread of a ParkedSocketWatch: waits in poll(2) on the parked apps' listening sockets and
// its wake-up channel, and reports sockets a connection waits on. A socket reported is left out
// of the wait until the next `watch` names it again, so a connection nobody has accepted yet is
// reported once, not in a loop.

declare const self: Worker;

let watched: readonly number[] = [];
let stopping = false;
let started = false;

self.onmessage = (event: MessageEvent<ParkedWatchCommand>) => {
  const command = event.data;
  if (command.kind === "watch") watched = command.fds;
  else if (command.kind === "stop") stopping = true;
  else if (!started) {
    started = true;
    void run(command.wakeFd);
  }
};

async function run(wakeFd: number): Promise<void> {
  const wake = FdChannel.fromFd(wakeFd);
  try {
    while (!stopping) {
      const ready = pollReadable([wakeFd, ...watched], -1);
      if (ready[0]) while (wake.receive() !== undefined);
      const pending = watched.filter((_, i) => ready[i + 1]);
      if (pending.length > 0) {
        watched = watched.filter((fd) => !pending.includes(fd));
        self.postMessage({ kind: "pending", fds: pending } satisfies ParkedWatchReport);
      }
      // A turn of this thread's event loop: the commands that came with the wake-up run now.
      await Bun.sleep(0);
    }
  } catch (error) {
    self.postMessage({
      kind: "failed",
      message: (error as Error).message,
    } satisfies ParkedWatchReport);
  }
}
