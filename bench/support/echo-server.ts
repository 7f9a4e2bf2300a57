// Child process of rpc-roundtrip.ts: serves either a raw byte echo or the RPC engine's test/echo
// on a Unix socket, prints "ready" once listening, and exits when stdin closes.
import { listenUnix, RpcPeer } from "@rialto/protocol";
import { createTestRouter } from "@rialto/protocol/testing";

const [mode, path] = process.argv.slice(2);
if (path === undefined || (mode !== "raw" && mode !== "rpc")) {
  console.error("usage: echo-server.ts raw|rpc <socket path>");
  process.exit(2);
}

if (mode === "raw") {
  Bun.listen({ unix: path, socket: { data: (socket, data) => void socket.write(data) } });
} else {
  const router = createTestRouter();
  await listenUnix(path, (transport) => new RpcPeer<unknown>({ transport, router }));
}
console.log("ready");
for await (const _ of Bun.stdin.stream()) {
  // Runs until the parent closes our stdin.
}
process.exit(0);
