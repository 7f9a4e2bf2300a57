// The demo: two processes talking through the RPC engine over a Unix socket. It grows with the
// project into the end-to-end media demo.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectUnix, PROTOCOL_VERSION, RpcPeer, TestMethods } from "@rialto/protocol";

const dir = mkdtempSync(join(tmpdir(), "rialto-demo-"));
const socketPath = join(dir, "echo.sock");
const server = Bun.spawn([process.execPath, join(import.meta.dir, "echo-server.ts"), socketPath], {
  stdout: "pipe",
  stderr: "inherit",
});
try {
  const reader = server.stdout.getReader();
  const ready = await reader.read();
  if (!new TextDecoder().decode(ready.value).includes("ready"))
    throw new Error("server did not start");
  console.log(
    `protocol ${PROTOCOL_VERSION}: server process ${server.pid} listening on ${socketPath}`,
  );
  const peer = new RpcPeer({ name: "demo", transport: await connectUnix(socketPath) });
  const ticks: number[] = [];
  peer.on(TestMethods.tick, ({ n }) => ticks.push(n));
  const started = performance.now();
  const replies = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => peer.call(TestMethods.echo, { text: `message ${i}` })),
  );
  const elapsed = performance.now() - started;
  const correct = replies.every((reply, i) => reply.text === `message ${i}`);
  console.log(
    `1000 concurrent calls answered in ${elapsed.toFixed(1)} ms, all correct: ${correct}`,
  );
  const error = await peer
    .call(TestMethods.sleep, { ms: 1000 }, { timeoutMs: 100 })
    .catch((e) => e);
  console.log(`a call past its deadline: ${error.code}: ${error.message}`);
  peer.close();
  if (!correct) process.exitCode = 1;
} finally {
  server.kill();
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
