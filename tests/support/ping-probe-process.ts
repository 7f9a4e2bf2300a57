// A well-behaved client in its own process, pinging its session server one ping at a time
// (1 ms apart) while an attack runs. Prints "ready" once connected, then on a "stop" line on
// stdin prints the latencies as one JSON line and exits. Usage: bun ping-probe-process.ts <socket>
import { RialtoClient } from "@rialto/client";

const socketPath = process.argv[2];
if (socketPath === undefined) throw new Error("usage: ping-probe-process.ts <socket path>");

const client = await RialtoClient.connect({ socketPath, timeoutMs: 10_000 });
const latencies: number[] = [];
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
  JSON.stringify({ latencies, failure, reconnects: stats.reconnects, clientId: stats.clientId }),
);
process.exit(0);
