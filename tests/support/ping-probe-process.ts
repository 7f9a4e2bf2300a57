// A well-behaved client in its own process, pinging its session server one ping at a time
// (1 ms apart) while an attack runs. Prints "ready" once connected, then on a "stop" line on
// stdin prints the latencies (with the epoch ms each ping started at) as one JSON line and exits.
// Usage: bun ping-probe-process.ts <socket> [control]; with `control` it is a rialtoctl-like
// client of the daemon's control socket calling manager/listApplications instead.
import { RialtoClient } from "@rialto/client";
import { ControlSocketMethods, connectUnix, RpcPeer } from "@rialto/protocol";

const socketPath = process.argv[2];
if (socketPath === undefined) throw new Error("usage: ping-probe-process.ts <socket path>");

/** The one call the probe repeats, and its client's stats at the end. */
interface ProbeClient {
  ping(n: number): Promise<unknown>;
  getStats(): { reconnects: number; clientId?: number };
  close(): Promise<void>;
}

async function controlClient(path: string): Promise<ProbeClient> {
  const peer = new RpcPeer({ name: "control-probe", timeoutMs: 10_000 });
  peer.attach(await connectUnix(path));
  return {
    ping: () => peer.call(ControlSocketMethods.listApplications, {}),
    getStats: () => ({ reconnects: 0 }),
    close: async () => peer.close(),
  };
}

const client: ProbeClient =
  process.argv[3] === "control"
    ? await controlClient(socketPath)
    : await RialtoClient.connect({ socketPath, timeoutMs: 10_000 });
// Warm up first (not measured): the server interprets a message's first 16 checks and then
// compiles its validator, a one-off of several ms that is not the attack's doing.
for (let n = 0; n < 50; n++) await client.ping(n);
const latencies: number[] = [];
/** When each ping started: epoch ms, comparable with other processes' clocks. */
const startedAt: number[] = [];
let running = true;
let failure: string | undefined;

const loop = (async () => {
  let n = 0;
  while (running) {
    const started = performance.now();
    try {
      await client.ping(++n);
    } catch (error) {
      failure = String(error);
      return;
    }
    latencies.push(performance.now() - started);
    startedAt.push(performance.timeOrigin + started);
    await Bun.sleep(1);
  }
})();

console.log("ready");
for await (const line of console) {
  if (line.trim() === "stop") break;
}
running = false;
await loop;
const stats = client.getStats();
await client.close();
console.log(
  JSON.stringify({
    latencies,
    startedAt,
    failure,
    reconnects: stats.reconnects,
    clientId: stats.clientId,
  }),
);
process.exit(0);
