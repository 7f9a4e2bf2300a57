// The demo's second process: serves the RPC engine's test methods on a Unix socket.
import { createTestRouter, listenUnix, RpcPeer } from "@rialto/protocol";

const path = process.argv[2];
if (path === undefined) {
  console.error("usage: echo-server.ts <socket path>");
  process.exit(2);
}
const router = createTestRouter();
await listenUnix(
  path,
  (transport) => new RpcPeer<unknown>({ name: "echo-server", transport, router }),
);
console.log("ready");
