import { afterEach, describe, expect, it } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { connectFd } from "./socket-transport.ts";

const MODULE = fileURLToPath(new URL("./fd-stream-transport.ts", import.meta.url));
const children: Bun.Subprocess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill();
    await child.exited;
  }
});

/**
 * A child process whose fd 3 is one end of a socketpair, wrapped by `openFdStream` in
 * `script` (which sees `transport`); returns our end as a SocketTransport and the child's stdout.
 */
async function childOnFd3(script: string) {
  const child = Bun.spawn({
    cmd: [
      process.execPath,
      "-e",
      `const { openFdStream } = await import(${JSON.stringify(MODULE)});
       const transport = await openFdStream(3);
       ${script}`,
    ],
    stdio: ["ignore", "pipe", "inherit", "socket-fd"],
  });
  children.push(child);
  const ours = await connectFd(child.stdio[3] as number);
  const received: Uint8Array[] = [];
  const closed = Promise.withResolvers<void>();
  ours.start({ data: (bytes) => received.push(bytes.slice()), close: () => closed.resolve() });
  return { child, ours, received, closed: closed.promise, lines: lines(child.stdout) };
}

/** The child's stdout, line by line. */
async function* lines(stream: ReadableStream<Uint8Array>) {
  let text = "";
  for await (const chunk of stream) {
    text += new TextDecoder().decode(chunk);
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n")) {
      yield text.slice(0, end);
      text = text.slice(end + 1);
    }
  }
}

async function until(what: string, check: () => boolean, deadlineMs = 10_000) {
  const deadline = performance.now() + deadlineMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

const total = (chunks: Uint8Array[]) => chunks.reduce((sum, c) => sum + c.byteLength, 0);

describe("openFdStream (a SocketTransport over an FdSocket)", () => {
  it("carries bytes both ways over an inherited socket fd and closes when the peer ends", async () => {
    // Step 1: the child echoes what it receives and says how its transport closed.
    const { child, ours, received } = await childOnFd3(`
      transport.start({
        data: (bytes) => transport.write(bytes.slice()),
        close: (cause) => { console.log("closed", cause?.code ?? "clean"); process.exit(0); },
      });`);
    // Step 2: what we send comes back.
    ours.write(new TextEncoder().encode("hello over fd 3"));
    await until("the echo", () => total(received) === 15);
    expect(new TextDecoder().decode(Buffer.concat(received))).toBe("hello over fd 3");
    // Step 3: when we close our end, the child's transport closes cleanly.
    ours.close();
    expect(await new Response(child.stdout).text()).toBe("closed clean\n");
    expect(await child.exited).toBe(0);
  });

  it("holds what the socket cannot take yet, counts it as buffered, and sends it as the peer reads", async () => {
    // Step 1: the child writes 4 MiB at once, far more than the socket's buffers hold.
    const { received, lines } = await childOnFd3(`
      transport.start({ data() {}, close() {} });
      transport.write(new Uint8Array(4 * 1024 * 1024).fill(7));
      console.log("buffered", transport.bufferedBytes);
      const drained = () => transport.bufferedBytes === 0 ? console.log("drained") : setTimeout(drained, 5);
      drained();
      setInterval(() => {}, 1e9);`);
    const first = await lines.next();
    expect(first.value).toMatch(/^buffered [1-9]\d*$/);
    // Step 2: everything arrives, in order, and the child sees its buffer drained.
    await until("4 MiB from the child", () => total(received) === 4 * 1024 * 1024);
    expect(received.every((chunk) => chunk.every((byte) => byte === 7))).toBe(true);
    expect((await lines.next()).value).toBe("drained");
  });

  it("rejects an fd that is not an open socket with CONNECTION_LOST", async () => {
    const { openFdStream } = await import(MODULE);
    const file = openSync(MODULE, "r");
    try {
      await expect(openFdStream(file)).rejects.toMatchObject({ code: "CONNECTION_LOST" });
    } finally {
      closeSync(file);
    }
    await expect(openFdStream(-1)).rejects.toMatchObject({ code: "CONNECTION_LOST" });
  });
});
