import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ScenarioName } from '../types.js';
import { label, shortLabel, systemOrder, type Aggregate } from './aggregate.js';
import { markdown } from './markdown.js';

const require = createRequire(import.meta.url);

/** uPlot's script and stylesheet, inlined so the report works offline from one file. */
function uplotAssets(): { js: string; css: string } {
  const dist = join(dirname(require.resolve('uplot/package.json')), 'dist');
  return { js: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8') };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A minimal Markdown-table-to-HTML conversion (headings, emphasis lines and pipe tables only). */
function tablesHtml(md: string): string {
  const lines = md.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.startsWith('### ')) out.push(`<h3>${esc(l.slice(4))}</h3>`);
    else if (/^_.*_$/.test(l)) out.push(`<p class="muted">${esc(l.slice(1, -1))}</p>`);
    else if (l.startsWith('|')) {
      const rows: string[][] = [];
      while (i < lines.length && (lines[i] as string).startsWith('|')) {
        const cells = (lines[i] as string).split('|').slice(1, -1).map((c) => c.trim());
        if (!cells.every((c) => /^-+:?$/.test(c))) rows.push(cells);
        i++;
      }
      i--;
      const [head, ...body] = rows;
      out.push(`<table><thead><tr>${(head ?? []).map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c, j) => `<td${j ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    }
  }
  return out.join('\n');
}

interface ChartSpec {
  id: string;
  title: string;
  kind: 'percentile' | 'line' | 'bars';
  xLabel: string;
  yLabel: string;
  names: string[];
  /** Per series: [x, y] points (merged onto a shared x axis in the page). */
  points: Array<Array<[number, number]>>;
  categories?: string[];
  logY?: boolean;
  logX?: boolean;
}

function byScenario(aggs: Aggregate[], sc: ScenarioName): Aggregate[] {
  return aggs.filter((a) => a.scenario === sc && a.representative).sort((a, b) => systemOrder(a.system) - systemOrder(b.system));
}

function charts(aggs: Aggregate[]): ChartSpec[] {
  const out: ChartSpec[] = [];
  for (const sc of ['fanout', 'small-rooms'] as const) {
    const rows = byScenario(aggs, sc).filter((a) => a.representative?.latency?.cross ?? a.representative?.latency?.same);
    if (!rows.length) continue;
    out.push({
      id: `lat-${sc}`,
      title: `${sc === 'fanout' ? 'Fan-out' : 'Small rooms'}: cross-node latency distribution (same-node for the raw ws ceiling)`,
      kind: 'percentile',
      xLabel: 'percentile',
      yLabel: 'ms',
      logY: true,
      names: rows.map((a) => label(a.system)),
      points: rows.map((a) => (a.representative?.latency?.cross ?? a.representative?.latency?.same)!.curve.filter(([p]) => p < 100).map(([p, v]) => [-Math.log10(1 - p / 100), v])),
    });
  }
  const sat = byScenario(aggs, 'saturation');
  if (sat.length) {
    out.push({
      id: 'throughput',
      title: 'Throughput per bus: deliveries/s at saturation (median)',
      kind: 'bars',
      xLabel: '',
      yLabel: 'deliveries/s',
      names: ['deliveries/s'],
      categories: sat.map((a) => shortLabel(a.system)),
      points: [sat.map((a, i) => [i, a.metrics.saturation_deliveries_per_s ?? 0])],
    });
    const cpu = sat.filter((a) => Number.isFinite(a.metrics.node_cpu_us_per_delivery ?? NaN));
    if (cpu.length)
      out.push({
        id: 'node-cpu',
        title: 'Node CPU µs per delivery at saturation (best step; lower is better)',
        kind: 'bars',
        xLabel: '',
        yLabel: 'µs per delivery',
        names: ['node CPU µs/delivery'],
        categories: cpu.map((a) => shortLabel(a.system)),
        points: [cpu.map((a, i) => [i, a.metrics.node_cpu_us_per_delivery ?? 0])],
      });
    out.push({
      id: 'saturation',
      title: 'Saturation: delivered vs offered deliveries/s',
      kind: 'line',
      logX: true,
      xLabel: 'offered deliveries/s',
      yLabel: 'delivered deliveries/s',
      names: sat.map((a) => label(a.system)),
      points: sat.map((a) => {
        const off = a.representative?.series?.offered ?? [];
        const del = a.representative?.series?.delivered ?? [];
        return off.map(([i, o]) => [o, del.find(([j]) => j === i)?.[1] ?? 0]);
      }),
    });
  }
  const fo = byScenario(aggs, 'failover');
  if (fo.length) {
    out.push({
      id: 'failover',
      title: 'Failover timeline: deliveries/s around the kill (t = 0 s)',
      kind: 'line',
      xLabel: 's since kill -9',
      yLabel: 'deliveries/s',
      names: fo.map((a) => label(a.system)),
      points: fo.map((a) => (a.representative?.timeline ?? []).filter(([t]) => t >= -2 && t <= 6)),
    });
    out.push({
      id: 'failover-recovered',
      title: 'Failover: clients of the killed node receiving again (cumulative)',
      kind: 'line',
      xLabel: 'ms since kill -9',
      yLabel: 'clients',
      names: fo.map((a) => label(a.system)),
      points: fo.map((a) => a.representative?.series?.recovered ?? []),
    });
  }
  const fan = byScenario(aggs, 'fanout');
  if (fan.length) {
    out.push({ id: 'fan-timeline', title: 'Fan-out: deliveries/s over time', kind: 'line', xLabel: 's', yLabel: 'deliveries/s', names: fan.map((a) => label(a.system)), points: fan.map((a) => a.representative?.timeline ?? []) });
  }
  const cs = byScenario(aggs, 'connect-storm');
  if (cs.length) {
    out.push({
      id: 'connect-rate',
      title: 'Connect storm: connections/s one node accepts',
      kind: 'bars',
      xLabel: '',
      yLabel: 'connections/s',
      names: ['connections/s'],
      categories: cs.map((a) => shortLabel(a.system)),
      points: [cs.map((a, i) => [i, a.metrics.connections_per_s ?? 0])],
    });
  }
  const mem = byScenario(aggs, 'idle-memory');
  if (mem.length) {
    out.push({
      id: 'memory',
      title: 'Idle memory: RSS KB per connection at 19k connections',
      kind: 'bars',
      xLabel: '',
      yLabel: 'KB per connection',
      names: ['RSS KB/conn'],
      categories: mem.map((a) => shortLabel(a.system)),
      points: [mem.map((a, i) => [i, a.metrics.rss_kb_per_conn_19k ?? a.metrics.rss_kb_per_conn_10k ?? 0])],
    });
  }
  return out;
}

const PAGE_JS = `
const COLORS=['#2563eb','#16a34a','#d97706','#9333ea','#0891b2','#db2777','#dc2626','#525252'];
function merge(points){const xs=[...new Set(points.flatMap(p=>p.map(q=>q[0])))].sort((a,b)=>a-b);return [xs,...points.map(p=>{const m=new Map(p);return xs.map(x=>m.has(x)?m.get(x):null)})];}
for(const c of CHARTS){
  const el=document.getElementById(c.id);const width=Math.min(1000,el.clientWidth||900);
  const data=merge(c.points);
  const opts={width,height:320,title:c.title,scales:{x:{time:false,distr:c.logX?3:1},y:c.kind==='bars'?{range:(u,min,max)=>[0,max*1.1]}:{distr:c.logY?3:1}},legend:{live:true},
    axes:[{label:c.xLabel},{label:c.yLabel,size:70}],series:[{label:c.xLabel||'x'}]};
  if(c.kind==='percentile'){opts.axes[0].values=(u,v)=>v.map(x=>(100*(1-Math.pow(10,-x))).toFixed(x>=3?3:x>=2?2:x>=1?1:0)+'%');opts.series[0].value=(u,x)=>x==null?'':(100*(1-Math.pow(10,-x))).toFixed(3)+'%';}
  if(c.kind==='bars'){opts.axes[0].values=(u,v)=>v.map(i=>Number.isInteger(i)?(c.categories[i]||''):'');opts.axes[0].size=60;opts.scales.x={time:false,range:[-0.6,c.categories.length-0.4]};opts.axes[0].splits=()=>c.categories.map((_,i)=>i);}
  c.names.forEach((n,i)=>opts.series.push({label:n,stroke:COLORS[i%COLORS.length],width:2,spanGaps:true,
    ...(c.kind==='bars'?{fill:COLORS[0]+'99',paths:uPlot.paths.bars({size:[0.6,80]}),points:{show:false}}:{points:{show:c.kind==='percentile'}})}));
  new uPlot(opts,data,el);
}`;

/** The offline report: tables, then the charts (uPlot inlined). */
export function html(aggs: Aggregate[], meta: { title: string; command: string; when: string; machine: string }): string {
  const { js, css } = uplotAssets();
  const specs = charts(aggs);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(meta.title)}</title>
<style>${css}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1080px;color:#111;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.4rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}h3{margin-top:1.6rem}
.muted{color:#666;margin:.2rem 0 .6rem}code{background:#f4f4f5;padding:.1rem .3rem;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:13px}th,td{border-bottom:1px solid #e5e5e5;padding:.35rem .5rem;text-align:left}
td.num,th:not(:first-child){text-align:right}tbody tr:hover{background:#f8fafc}.chart{margin:1.2rem 0 2rem}
</style></head><body>
<h1>${esc(meta.title)}</h1>
<p class="muted">${esc(meta.when)} · ${esc(meta.machine)}</p>
<p><code>${esc(meta.command)}</code></p>
<h2>Charts</h2>
${specs.map((c) => `<div class="chart" id="${c.id}"></div>`).join('\n')}
<h2>Tables</h2>
${tablesHtml(markdown(aggs))}
<script>${js}</script>
<script>const CHARTS=${JSON.stringify(specs).replace(/</g, '\\u003c')};${PAGE_JS}</script>
</body></html>`;
}
