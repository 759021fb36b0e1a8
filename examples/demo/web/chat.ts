/**
 * The chat page: the Switchyard client SDK in the browser. Each tab is one client; the node
 * it lands on is picked by the cluster (the SDK follows redirects), so tabs chat across nodes.
 * Stop or kill that node on the dashboard and watch the tab move and catch up from history.
 */
import { CloseCode, createClient, type DisconnectedInfo, type Room, type SwitchyardClient } from '@switchyard/transport-ws/client';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let client: SwitchyardClient | undefined;
let room: Room | undefined;

function line(html: string, cls = ''): void {
  const li = document.createElement('li');
  if (cls) li.className = cls;
  li.innerHTML = html;
  const list = $('messages');
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

/**
 * A close as what it is: a redirect (4300) is a normal move, already told by the `redirect`
 * event; a drain (1012) and a fenced node (4011) are the node sending us elsewhere; only the
 * rest is a connection lost. Null when there is nothing to add.
 */
function closeText(e: DisconnectedInfo, node: string | undefined, redirected: boolean): string | null {
  const on = node ? `<b>${esc(node)}</b>` : 'the node';
  const then = e.willReconnect ? '' : ' (not reconnecting)';
  switch (e.code) {
    case CloseCode.Redirect:
      return redirected ? null : `redirect not followed (too many in a row): staying on ${on}${then}`;
    case CloseCode.Fenced:
      return `${on} fenced itself (4011: it lost contact with the cluster and serves no one): moving to another node${then}`;
    case CloseCode.ServiceRestart:
      return `${on} is draining (1012): moving to another node${then}`;
    case CloseCode.Normal:
      return e.willReconnect ? `${on} closed the connection: reconnecting…` : null;
    case CloseCode.Abnormal:
      return `connection to ${on} lost (1006: no close frame, the node may have crashed)${e.willReconnect ? ', reconnecting…' : then}`;
    default:
      return `disconnected (${e.code}${e.reason ? ` ${esc(e.reason)}` : ''})${e.willReconnect ? ', reconnecting…' : then}`;
  }
}

function status(text: string, state: string): void {
  $('conn').className = `conn ${state}`;
  $('conn-text').textContent = text;
  $('conn').dataset.state = state;
}

async function join(name: string, roomName: string): Promise<void> {
  client?.close();
  const { urls } = (await (await fetch('/api/urls')).json()) as { urls: string[] };
  if (urls.length === 0) {
    line('no node is running: start one on the dashboard', 'sys');
    return;
  }
  // Start on a random node; the cluster may redirect us to the one it prefers.
  const start = Math.floor(Math.random() * urls.length);
  client = createClient({ urls: [...urls.slice(start), ...urls.slice(0, start)], params: { name }, reconnect: { baseMs: 250, maxMs: 4000 } });
  let node: string | undefined;
  let redirected = false;
  client.on('state', ({ to }) => {
    if (to !== 'connected') status(to, to);
  });
  client.on('connected', (e) => {
    node = e.node;
    status(`on ${e.node} as ${name}`, 'connected');
    document.title = `${name} on ${e.node} · Switchyard chat`;
    line(`connected to <b>${esc(e.node)}</b>${e.resumed ? ` (session resumed${e.recovered ? ', nothing lost' : ''})` : ''}`, 'sys');
  });
  client.on('redirect', (e) => {
    redirected = true; // the 4300 close that follows is this move
    line(`redirected to ${esc(e.url)} (${esc(e.reason)}): a normal move, the cluster placed us there`, 'sys redirect');
  });
  client.on('disconnected', (e) => {
    const text = closeText(e, node, redirected);
    redirected = false;
    node = undefined;
    if (text) line(text, `sys close-${e.code}`);
  });
  room = client.room(roomName);
  room.on('subscribed', (e) => {
    if (e.resubscribed) line(`back in #${esc(e.room)}${e.recovering ? (e.gap ? ': some messages were lost' : ': missed messages replayed') : ''}`, 'sys');
    else line(`joined #${esc(e.room)}`, 'sys');
  });
  room.on('message', (m) => {
    const d = (m.data ?? {}) as { user?: unknown; text?: unknown };
    const who = typeof d.user === 'string' ? d.user : 'someone';
    const text = typeof d.text === 'string' ? d.text : JSON.stringify(m.data);
    const via = m.from ? m.from.split('~')[0] : '';
    line(`<span class="who">${esc(who)}</span>${esc(text)}<span class="meta">${via ? `via ${esc(via)} ` : ''}${m.offset !== undefined ? `#${m.offset}` : ''}</span>`);
  });
  $<HTMLInputElement>('text').disabled = false;
  $<HTMLButtonElement>('send').disabled = false;
  $<HTMLInputElement>('text').focus();
}

$('join').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const name = $<HTMLInputElement>('name').value.trim() || 'guest';
  localStorage.setItem('switchyard-demo-name', name);
  void join(name, $<HTMLInputElement>('room').value.trim() || 'lobby');
});

$('say').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $<HTMLInputElement>('text');
  const text = input.value.trim();
  if (!text || !room) return;
  input.value = '';
  room.publish('chat', { user: $<HTMLInputElement>('name').value.trim() || 'guest', text, sentAt: Date.now() }).catch((err: unknown) => line(`not sent: ${esc(String((err as Error).message ?? err))}`, 'sys'));
});

$<HTMLInputElement>('name').value = localStorage.getItem('switchyard-demo-name') ?? `guest-${Math.floor(Math.random() * 900 + 100)}`;
