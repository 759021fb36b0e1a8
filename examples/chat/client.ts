/**
 * A terminal chat client on the Switchyard SDK. Give it a name and every node (or your load
 * balancer); type a line to send it to #lobby.
 *
 *   node --conditions=@switchyard/source --import tsx examples/chat/client.ts ada ws://127.0.0.1:4001/ws ws://127.0.0.1:4002/ws
 */
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws'; // Node 20; browsers and Node 22+ have a global WebSocket
import { createClient } from '@switchyard/transport-ws/client';

const [name = 'guest', ...urls] = process.argv.slice(2);
const client = createClient<{ chat: { user: string; text: string } }>({ urls, WebSocket }); // typed room messages
client.on('connected', (e) => console.log(`* connected to ${e.node} as ${name}`)); // after redirects and reconnects too
const lobby = client.room('lobby'); // joined on connect, rejoined after a reconnect, missed messages replayed
lobby.on('message', (m) => console.log(`${m.data.user}: ${m.data.text}`));
createInterface({ input: process.stdin }).on('line', (text) => lobby.publish('chat', { user: name, text }).catch(console.error));
