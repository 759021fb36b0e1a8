/* global document, window, fetch, EventSource, URL, setTimeout, confirm */
/**
 * The admin dashboard in the browser: plain ES module, no build step. Listens to api/stream
 * (Server-Sent Events: `snapshot` every few seconds, `event` as things happen), draws the nodes,
 * totals, rooms, connections and the event log, and posts the two actions (drain, disconnect)
 * with the header the server requires. Every element is made with the DOM API (no HTML from data).
 */

const ACTION_HEADER = 'x-switchyard-admin';
const api = (p) => new URL(`api/${p}`, window.location.href).toString();
const $ = (id) => document.getElementById(id);

/** h('div', { class: 'x', dataset: { a: 1 } }, child, 'text') */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else if (k === 'style') for (const [sk, sv] of Object.entries(v)) el.style.setProperty(sk, String(sv));
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof window.Node ? c : String(c));
  return el;
}

const hue = (id) => {
  const digits = /(\d+)$/.exec(id);
  let n = digits ? Number(digits[1]) - 1 : [...id].reduce((s, c) => (s * 31 + c.charCodeAt(0)) >>> 0, 7);
  n = ((n % 9) + 9) % 9;
  return `var(--n${n + 1})`;
};
const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const ms = (v) => (v === null || v === undefined ? '–' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`);
const lat = (l) => (l ? `${ms(l.p50)} / ${ms(l.p99)}` : '–');
const ago = (t) => {
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
};

let me = { read: true, act: false, node: '' };
let snap;
/** What the connections panel shows: { kind: 'node' | 'room', id } */
let selection;
const pending = new Set();

function logLine(e) {
  const li = h('li', { class: e.level, dataset: { kind: e.kind } }, h('time', {}, new Date(e.t).toLocaleTimeString()), e.text);
  const list = $('log');
  list.prepend(li);
  while (list.children.length > 300) list.lastElementChild?.remove();
}

function stat(k, v, testid) {
  return h('div', { class: 'stat', dataset: { testid } }, h('div', { class: 'v' }, v), h('div', { class: 'k' }, k));
}

function renderTotals(s) {
  const t = s.totals;
  $('totals').replaceChildren(
    stat('healthy / known nodes', `${t.healthy} / ${t.nodes}`, 'total-healthy'),
    stat('connections', String(t.connections), 'total-connections'),
    stat('capacity', String(t.capacity), 'total-capacity'),
    stat('rooms', String(t.rooms), 'total-rooms'),
    stat('bus latency p50 / p99 (this node)', lat(s.nodes.find((n) => n.self)?.latency?.bus), 'total-bus'),
  );
  $('served-by').textContent = `served by ${s.node}`;
  const notes = [];
  if (s.missing.length) notes.push(`${s.missing.join(', ')} did not answer in time: their rooms are not shown.`);
  if (s.withoutAgent.length) notes.push(`${s.withoutAgent.join(', ')} run without the admin agent (mountAdmin or attachAdminAgent): connection counts only.`);
  $('notice').hidden = notes.length === 0;
  $('notice').textContent = notes.join(' ');
}

function nodeCard(n) {
  const fill = n.capacity > 0 ? Math.min(100, (n.connections / n.capacity) * 100) : 0;
  const canDrain = me.act && (n.state === 'ready' || n.state === 'starting') && !pending.has(`drain:${n.id}`);
  const rooms = Object.entries(n.rooms).sort((a, b) => b[1] - a[1]);
  return h(
    'article',
    { class: 'node', style: { '--c': hue(n.id) }, dataset: { node: n.id, state: n.state, connections: n.connections } },
    h('div', { class: 'head' },
      h('span', { class: 'name' }, n.id),
      h('span', { class: `badge ${n.state}`, dataset: { testid: 'state' } }, n.state),
      n.coordinator ? h('span', { class: 'crown', title: 'holds the coordinator lease' }, '♛ coordinator') : null,
      n.self ? h('span', { class: 'tag' }, '· serving this page') : null,
      !n.reporting && n.state !== 'dead' ? h('span', { class: 'tag', title: 'no answer to the admin query' }, '· no report') : null,
    ),
    h('div', { class: 'url' }, n.url || '(no URL yet)'),
    h('div', { class: 'conns' },
      h('span', {}, h('span', { class: 'big', dataset: { testid: 'connections' } }, String(n.connections)), ' ', h('span', { class: 'muted' }, 'connections')),
      h('span', { class: 'muted' }, `${fmt(fill, 0)}% of ${n.capacity}`),
    ),
    h('div', { class: 'bar' }, h('span', { style: { width: `${fill}%` } })),
    h('div', { class: 'metrics' },
      h('span', {}, 'cpu · heap · lag'), h('span', {}, `${fmt(n.cpu * 100, 0)}% · ${fmt(n.memory * 100, 0)}% · ${fmt(n.lagMs, 1)} ms`),
      h('span', {}, 'bus latency p50/p99'), h('span', {}, lat(n.latency?.bus)),
      h('span', {}, 'publish p50/p99'), h('span', {}, lat(n.latency?.publish)),
      h('span', {}, 'users'), h('span', {}, n.users === null ? '–' : String(n.users)),
      h('span', {}, 'last heartbeat'), h('span', {}, `${fmt(n.lastHeartbeatAgoMs / 1000, 1)} s ago`),
      h('span', {}, 'up'), h('span', {}, ago(n.startedAt)),
    ),
    h('div', { class: 'chips' }, rooms.slice(0, 20).map(([r, c]) => h('span', { class: 'chip' }, `#${r} · ${c}`)), rooms.length > 20 ? h('span', { class: 'chip' }, `+${rooms.length - 20}`) : null),
    h('div', { class: 'actions' },
      h('button', { type: 'button', dataset: { action: 'connections', id: n.id }, disabled: n.state === 'dead' || n.state === 'starting', onclick: () => select({ kind: 'node', id: n.id }) }, 'Connections'),
      me.act
        ? h('button', { type: 'button', class: 'warn', dataset: { action: 'drain', id: n.id }, disabled: !canDrain, title: 'move every client of this node elsewhere', onclick: () => drain(n.id) }, n.state === 'draining' ? 'Draining…' : 'Drain')
        : null,
    ),
  );
}

function renderRooms(s) {
  const rows = s.rooms.map((r) =>
    h('tr', { dataset: { room: r.name }, class: selection?.kind === 'room' && selection.id === r.name ? 'selected' : null, onclick: () => select({ kind: 'room', id: r.name }) },
      h('td', {}, `#${r.name}`),
      h('td', { dataset: { testid: 'members' } }, String(r.members)),
      h('td', {}, h('div', { class: 'spread' }, Object.entries(r.nodes).map(([id, c]) => h('span', { title: `${id}: ${c}`, style: { flex: String(c), background: hue(id) } })))),
    ),
  );
  $('rooms').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'no rooms yet'))]));
}

function render() {
  if (!snap) return;
  renderTotals(snap);
  $('nodes').replaceChildren(...snap.nodes.map(nodeCard));
  renderRooms(snap);
}

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message ?? `HTTP ${res.status}`);
  return body;
}

async function post(path, body) {
  const res = await fetch(api(path), { method: 'POST', headers: { [ACTION_HEADER]: '1', 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) {
    logLine({ t: Date.now(), level: 'warn', kind: 'error', text: `refused (${res.status}): ${answer.message ?? answer.error ?? 'no reason given'}` });
    return undefined;
  }
  return answer;
}

async function drain(id) {
  if (!confirm(`Drain ${id}? Every client of ${id} is told to move to another node, and ${id} takes no new clients.`)) return;
  pending.add(`drain:${id}`);
  render();
  try {
    await post(`nodes/${encodeURIComponent(id)}/drain`);
  } finally {
    setTimeout(() => {
      pending.delete(`drain:${id}`);
      render();
    }, 1500);
  }
}

async function disconnect(id) {
  if (!confirm(`Disconnect ${id}?`)) return;
  pending.add(`disconnect:${id}`);
  await post(`connections/${encodeURIComponent(id)}/disconnect`);
  setTimeout(() => void loadConnections(), 300);
}

function select(sel) {
  selection = sel;
  render();
  void loadConnections();
}

async function loadConnections() {
  if (!selection) return;
  const sel = selection;
  $('conn-title').replaceChildren('Connections ', h('span', { class: 'muted' }, sel.kind === 'node' ? `on ${sel.id}` : `in #${sel.id}`));
  let list;
  let note = '';
  try {
    if (sel.kind === 'node') {
      const r = await getJson(api(`nodes/${encodeURIComponent(sel.id)}/connections`));
      list = r.connections.map((c) => ({ ...c, node: r.node }));
      note = r.total > list.length ? `showing ${list.length} of ${r.total}` : `${r.total} open`;
    } else {
      const r = await getJson(api(`rooms/${encodeURIComponent(sel.id)}/members`));
      list = r.members.map((m) => ({ id: m.connectionId, userId: m.userId, node: m.node }));
      note = `${list.length} member(s)` + (r.missing.length ? `; not answering: ${r.missing.join(', ')}` : '');
    }
  } catch (err) {
    if (selection === sel) $('conn-note').textContent = `could not load: ${err.message}`;
    return;
  }
  if (selection !== sel) return;
  $('conn-note').textContent = note;
  const rows = list.map((c) =>
    h('tr', { dataset: { connection: c.id, node: c.node } },
      h('td', { class: 'mono' }, c.id),
      h('td', {}, c.userId ?? h('span', { class: 'muted' }, 'anonymous')),
      h('td', {}, c.rooms ? c.rooms.map((r) => `#${r}`).join(' ') : h('span', { class: 'muted' }, `on ${c.node}`)),
      h('td', { class: 'muted' }, c.openedAt ? ago(c.openedAt) : ''),
      h('td', {}, me.act ? h('button', { type: 'button', class: 'danger', dataset: { action: 'disconnect', id: c.id }, disabled: pending.has(`disconnect:${c.id}`), onclick: () => disconnect(c.id) }, 'Disconnect') : null),
    ),
  );
  $('connections').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'none'))]));
}

function setLive(state, text) {
  $('live').dataset.state = state;
  $('live-text').textContent = text;
}

async function main() {
  me = await getJson(api('me'));
  const access = $('access');
  access.textContent = me.act ? 'read + act' : 'read only';
  access.classList.toggle('act', me.act);
  document.body.dataset.act = String(me.act);
  const stream = new EventSource(api('stream'));
  stream.addEventListener('open', () => setLive('live', 'live'));
  stream.addEventListener('error', () => setLive('lost', 'reconnecting…'));
  stream.addEventListener('snapshot', (ev) => {
    snap = JSON.parse(ev.data);
    render();
    if (selection) void loadConnections();
  });
  stream.addEventListener('event', (ev) => logLine(JSON.parse(ev.data)));
}

main().catch((err) => {
  setLive('lost', `failed: ${err.message}`);
  logLine({ t: Date.now(), level: 'warn', kind: 'error', text: `the dashboard could not start: ${err.message}` });
});
