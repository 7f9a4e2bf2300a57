/**
 * A peer that floods a side-channel acceptor (for the per-uid cap test, run as another user):
 * opens `count` connections to the side path given in argv, each sending a fresh token, prints
 * `ready <n>` and holds them until its stdin closes.
 */
import {
  connectSideChannel,
  type SideChannelConnection,
} from "../fd-passing/side-channel-handshake.ts";

const [sidePath, countText] = process.argv.slice(2);
if (sidePath === undefined || countText === undefined) {
  throw new Error("usage: flooding-peer <side path> <count>");
}
const held: SideChannelConnection[] = [];
for (let i = 0; i < Number(countText); i++) held.push(connectSideChannel(sidePath));
console.log(`ready ${held.length}`);
for await (const _ of Bun.stdin.stream()) {
  // Holds the connections until the test closes stdin.
}
for (const { channel } of held) channel.close();
