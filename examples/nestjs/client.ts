/**
 * A terminal client for the NestJS chat: type a line to send it through the gateway's `chat`
 * handler (its ack is printed when it fails).
 *
 *   node --conditions=@switchyard/source --import tsx examples/nestjs/client.ts ada ws://127.0.0.1:3001/ws ws://127.0.0.1:3002/ws
 */
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws'; // Node 20; browsers and Node 22+ have a global WebSocket
import { createClient } from '@switchyard/transport-ws/client';

const [name = 'guest', ...urls] = process.argv.slice(2);
type Events = { chat: { user: string; text: string }; exception: { status: string; message: unknown } }; // what the server sends
const client = createClient<Events>({ urls, token: name, WebSocket });
client.on('connected', (e) => console.log(`* connected to ${e.node} as ${name}`));
client.room('lobby').on('message', (m) => m.event === 'chat' && console.log(`${m.data.user}: ${m.data.text}`));
client.on('message', (m) => m.event === 'exception' && console.log(`! ${JSON.stringify(m.data.message)}`)); // Nest's exception message
createInterface({ input: process.stdin }).on('line', (text) => client.request('chat', { text }).catch((err: Error) => console.log(`! ${err.message}`)));
