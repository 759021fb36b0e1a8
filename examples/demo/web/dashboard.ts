/**
 * The dashboard in the browser: listens to /api/events (Server-Sent Events), draws the nodes,
 * totals, rooms, a connections chart and the event log, and sends the buttons' actions.
 */
import type { DashboardState, LatencySummary, LogEntry, NodeView } from './types.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const color = (id: string) => `var(--n${((Number(/(\d+)$/.exec(id)?.[1] ?? 0) - 1) % 9 + 9) % 9 + 1})`;
const rawColor = (id: string) => getComputedStyle(document.documentElement).getPropertyValue(`--n${((Number(/(\d+)$/.exec(id)?.[1] ?? 0) - 1) % 9 + 9) % 9 + 1}`).trim() || '#58a6ff';
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const ms = (v: number | null) => (v === null ? '–' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`);
const lat = (l: LatencySummary) => `${ms(l.p50)} / ${ms(l.p99)}`;

let state: DashboardState | undefined;
const pending = new Set<string>();

function stat(k: string, v: string, testid: string): string {
  return `<div class="stat" data-testid="${testid}"><div class="v">${esc(v)}</div><div class="k">${esc(k)}</div></div>`;
}

function renderTotals(s: DashboardState): void {
  const t = s.totals;
  $('totals').innerHTML = [
    stat('healthy / known nodes', `${t.healthy} / ${t.nodes}`, 'total-healthy'),
    stat('connections', String(t.connections), 'total-connections'),
    stat('room messages published / s', fmt(t.publishedPerSec), 'total-published'),
    stat('frames to sockets / s', fmt(t.socketOutPerSec), 'total-out'),
    stat('end-to-end latency p50 / p99', lat(t.e2eLatency), 'total-e2e'),
    stat('bus latency p50 / p99', lat(t.busLatency), 'total-bus'),
  ].join('');
  $('bus').textContent = `bus: ${s.bus.name} · ${s.bus.where} · up ${s.uptimeSec}s`;
}

function nodeCard(n: NodeView): string {
  const ended = n.process === 'stopped' || n.process === 'killed';
  // What happened to the node, and what the registry says about it.
  let badge = n.state;
  let note = '';
  if (n.process === 'draining') badge = 'draining';
  else if (n.process === 'stopped') badge = 'stopped';
  else if (n.process === 'killed') {
    badge = n.state === 'ready' ? 'killed' : 'dead';
    if (n.state === 'ready') note = '<span class="muted" title="the registry lists it until the heartbeat timeout">registry still says ready…</span>';
  }
  const fill = n.capacity > 0 ? Math.min(100, (n.connections / n.capacity) * 100) : 0;
  const rooms = Object.entries(n.rooms).map(([r, c]) => `<span class="chip">#${esc(r)} · ${c}</span>`).join('');
  const users = n.users.slice(0, 24).map((u) => `<span class="chip">${esc(u)}</span>`).join('') + (n.users.length > 24 ? `<span class="chip">+${n.users.length - 24}</span>` : '');
  const busy = pending.has(n.id);
  const canAct = !ended && n.process !== 'remote' && n.process !== 'draining' && !busy;
  return `<article class="node${ended ? ' ended' : ''}" style="--c:${color(n.id)}" data-node="${esc(n.id)}" data-state="${esc(n.state)}" data-process="${esc(n.process)}" data-connections="${n.connections}">
    <div class="head"><span class="name">${esc(n.id)}</span><span class="badge ${esc(badge)}" data-testid="state">${esc(badge)}</span>${note}${n.coordinator ? '<span class="crown" title="holds the coordinator lease">♛ coordinator</span>' : ''}</div>
    <div class="url">${esc(n.url)}</div>
    <div class="conns"><span><span class="big" data-testid="connections">${n.connections}</span> <span class="muted">connections</span></span><span class="muted">${fmt(fill, 0)}% of ${n.capacity}</span></div>
    <div class="bar"><span style="width:${fill}%"></span></div>
    <div class="metrics">
      <span>bus in / s</span><span>${fmt(n.busInPerSec)}</span>
      <span>frames out / s</span><span>${fmt(n.socketOutPerSec)}</span>
      <span>bus latency p50/p99</span><span>${lat(n.busLatency)}</span>
      <span>cpu · heap · lag</span><span>${fmt(n.cpu * 100, 0)}% · ${fmt(n.memory * 100, 0)}% · ${fmt(n.lagMs, 1)} ms</span>
      <span>last heartbeat</span><span>${n.lastHeartbeatAgoMs === null ? '–' : `${fmt(n.lastHeartbeatAgoMs / 1000, 1)} s ago`}</span>
    </div>
    <div class="chips">${rooms}</div>
    <div class="chips">${users}</div>
    <div class="actions">
      <button type="button" class="warn" data-action="stop" data-id="${esc(n.id)}" ${canAct ? '' : 'disabled'} title="graceful drain">Stop (drain)</button>
      <button type="button" class="danger" data-action="kill" data-id="${esc(n.id)}" ${canAct ? '' : 'disabled'} title="crash: no goodbye">Kill (crash)</button>
    </div>
  </article>`;
}

function renderNodes(s: DashboardState): void {
  $('nodes').innerHTML = s.nodes.map(nodeCard).join('');
}

function renderRooms(s: DashboardState): void {
  $('rooms').innerHTML =
    s.rooms
      .map((r) => {
        const spread = Object.entries(r.nodes)
          .map(([id, c]) => `<span title="${esc(id)}: ${c}" style="flex:${c};background:${color(id)}"></span>`)
          .join('');
        return `<tr><td>#${esc(r.name)}</td><td>${r.members}</td><td><div class="spread">${spread}</div></td></tr>`;
      })
      .join('') || '<tr><td colspan="3" class="muted">no rooms yet</td></tr>';
}

function renderChart(s: DashboardState): void {
  const canvas = $<HTMLCanvasElement>('chart-connections');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight || 180;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, w, h);
  const series = s.series;
  const ids = [...new Set(series.flatMap((p) => Object.keys(p.connections)))];
  const max = Math.max(4, ...series.flatMap((p) => Object.values(p.connections)));
  const pad = { l: 28, r: 8, t: 8, b: 18 };
  const x = (i: number) => pad.l + (i / Math.max(1, 119)) * (w - pad.l - pad.r);
  const y = (v: number) => h - pad.b - (v / max) * (h - pad.t - pad.b);
  ctx.strokeStyle = '#2a3542';
  ctx.fillStyle = '#8b98a5';
  ctx.font = '11px system-ui';
  ctx.lineWidth = 1;
  for (const v of [0, Math.round(max / 2), max]) {
    ctx.beginPath();
    ctx.moveTo(pad.l, y(v));
    ctx.lineTo(w - pad.r, y(v));
    ctx.stroke();
    ctx.fillText(String(v), 4, y(v) + 4);
  }
  const offset = 120 - series.length;
  for (const id of ids) {
    ctx.strokeStyle = rawColor(id);
    ctx.lineWidth = 2;
    ctx.beginPath();
    let started = false;
    series.forEach((p, i) => {
      const v = p.connections[id];
      if (v === undefined) {
        started = false;
        return;
      }
      if (!started) ctx.moveTo(x(i + offset), y(v));
      else ctx.lineTo(x(i + offset), y(v));
      started = true;
    });
    ctx.stroke();
  }
  $('legend').innerHTML = ids.map((id) => `<span><i style="background:${color(id)}"></i>${esc(id)}</span>`).join('');
}

function addLog(e: LogEntry): void {
  const li = document.createElement('li');
  li.className = e.level;
  li.innerHTML = `<time>${new Date(e.t).toLocaleTimeString()}</time>${esc(e.text)}`;
  const list = $('log');
  list.prepend(li);
  while (list.children.length > 200) list.lastElementChild?.remove();
}

function render(): void {
  if (!state) return;
  renderTotals(state);
  renderNodes(state);
  renderRooms(state);
  renderChart(state);
}

async function post(path: string): Promise<void> {
  const res = await fetch(path, { method: 'POST' });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    addLog({ t: Date.now(), level: 'warn', text: `request failed: ${body.error ?? res.status}` });
  }
}

$('nodes').addEventListener('click', (ev) => {
  const btn = (ev.target as HTMLElement).closest('button[data-action]') as HTMLButtonElement | null;
  if (!btn || btn.disabled) return;
  const id = btn.dataset.id as string;
  pending.add(id);
  render();
  void post(`/api/nodes/${encodeURIComponent(id)}/${btn.dataset.action}`).finally(() => setTimeout(() => pending.delete(id), 1500));
});

$('start-node').addEventListener('click', () => {
  const b = $<HTMLButtonElement>('start-node');
  b.disabled = true;
  void post('/api/nodes').finally(() => (b.disabled = false));
});

const events = new EventSource('/api/events');
events.addEventListener('state', (ev) => {
  state = JSON.parse((ev as MessageEvent<string>).data) as DashboardState;
  render();
});
events.addEventListener('log', (ev) => addLog(JSON.parse((ev as MessageEvent<string>).data) as LogEntry));
window.addEventListener('resize', () => state && renderChart(state));
