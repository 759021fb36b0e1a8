/**
 * A terminal chat client on the Switchyard SDK. Give it every node (or your load balancer):
 *
 *   node --conditions=@switchyard/source --import tsx examples/chat/client.ts --name ada --url ws://127.0.0.1:4001/ws --url ws://127.0.0.1:4002/ws
 *
 * Type a line to send it to the room; `/who` asks the node who is connected there.
 * `--say <text>` sends one line once connected; `--pin` stays on the first node (no redirects).
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { createClient, type WebSocketConstructor } from '@switchyard/transport-ws/client';

const { values } = parseArgs({
  options: {
    url: { type: 'string', multiple: true },
    name: { type: 'string', default: `guest-${process.pid}` },
    room: { type: 'string', default: 'lobby' },
    say: { type: 'string' },
    pin: { type: 'boolean', default: false },
  },
});
const urls = values.url ?? ['ws://127.0.0.1:4001/ws'];
const name = values.name as string;

const client = createClient({
  urls,
  params: { name },
  WebSocket: WebSocket as unknown as WebSocketConstructor, // browsers have their own
  ...(values.pin ? { maxRedirects: 0 } : {}),
});
client.on('connected', (e) => console.log(`* connected to ${e.node} as ${name}${e.resumed ? ' (session resumed)' : ''}`));
client.on('redirect', (e) => console.log(`* redirected to ${e.url} (${e.reason})`));
client.on('disconnected', (e) => console.log(`* disconnected (${e.code})${e.willReconnect ? ', reconnecting' : ''}`));
client.on('error', (err) => console.log(`* ${err.code}: ${err.message}`));

const room = client.room(values.room as string);
room.on('subscribed', (e) => console.log(`* in #${e.room}${e.recovering ? (e.gap ? ' (some messages were lost)' : ' (missed messages replayed)') : ''}`));
room.on('message', (m) => {
  const d = (m.data ?? {}) as { user?: string; text?: string };
  console.log(`[#${m.room}] ${d.user ?? '?'}: ${d.text ?? JSON.stringify(m.data)}`);
});

const say = async (text: string) => {
  if (text === '/who') return console.log('* who:', JSON.stringify(await client.request('who')));
  await room.publish('chat', { user: name, text });
};

await client.ready();
if (values.say) await say(values.say);

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => void say(line.trim()).catch((err: Error) => console.log(`* not sent: ${err.message}`)));
const quit = () => {
  rl.close();
  client.close();
};
rl.on('close', () => client.close());
process.once('SIGINT', quit);
process.once('SIGTERM', quit);
