// Turns the runs of bench/run.mjs into the table (stdout), docs/BENCHMARKS.md and docs/benchmarks.svg.
// Every figure is the median of the runs of one client in one environment.

import { existsSync, readFileSync } from 'node:fs';

export const median = (values) => {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};

const ENV_NAMES = { node: 'Node', browser: 'Chromium', firefox: 'Firefox', webkit: 'WebKit' };
// Where the CPU figures are the main thread's time inside WebSocket event handlers, metered in the page.
const HANDLER_METERED = ['firefox', 'webkit'];
const CLIENT_NAMES = { ours: 'ours', peer: 'peer', 'peer-gws': 'peer on global WebSocket', floor: 'floor' };

const thousands = (n) => Math.round(n).toLocaleString('en-US');

function fmt(value, unit) {
  if (!Number.isFinite(value)) return '—';
  switch (unit) {
    case 'msg/s': return `${thousands(value)}`;
    case 'µs': return value >= 100 ? thousands(value) : value.toFixed(1);
    case 'ms': return value >= 100 ? thousands(value) : value.toFixed(1);
    case 'bytes': return bytes(value);
    default: return String(value);
  }
}

function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  if (n < 0) return `−${bytes(-n)}`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
const fmtRatio = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}` : '—');

/** For a row of shares (ours − floor against peer − floor): the difference, the figure the target is about. */
function shareVerdict(ours, peer) {
  if (!Number.isFinite(ours) || !Number.isFinite(peer)) return '';
  const d = ours - peer;
  return d >= 0 ? `${bytes(d)} more than the peer's` : `${bytes(-d)} less than the peer's`;
}

/** "1.9× slower" / "1.3× faster" (or larger/smaller) for ours against another client, from a ratio ours/other. */
function verdict(r, better, kind) {
  if (!Number.isFinite(r)) return '';
  // Cost form: > 1 means ours costs more.
  const cost = better === 'higher' ? 1 / r : r;
  if (Math.abs(cost - 1) < 0.03) return 'about the same';
  const [worse, good] = kind === 'size' ? ['larger', 'smaller'] : ['slower', 'faster'];
  const word = kind === 'memory' ? (cost > 1 ? 'more' : 'less') : cost > 1 ? worse : good;
  const factor = cost > 1 ? cost : 1 / cost;
  return `${factor.toFixed(2)}× ${word}`;
}

function speedRows(info) {
  const p = info.params;
  const n = (x) => x.toLocaleString('en-US');
  return [
    { scenario: 'inbound-small', key: 'msgsPerSec', unit: 'msg/s', better: 'higher',
      label: `inbound ${n(p['inbound-small'].count)} × ~200 B: messages/s` },
    { scenario: 'inbound-small', key: 'cpuUsPerMsg', unit: 'µs', better: 'lower',
      label: `inbound ~200 B: CPU µs per message` },
    { scenario: 'inbound-large', key: 'msgsPerSec', unit: 'msg/s', better: 'higher',
      label: `inbound ${n(p['inbound-large'].count)} × ~20 KB: messages/s` },
    { scenario: 'inbound-large', key: 'cpuUsPerMsg', unit: 'µs', better: 'lower',
      label: `inbound ~20 KB: CPU µs per message` },
    { scenario: 'rr-seq', key: 'p50Us', unit: 'µs', better: 'lower',
      label: `${n(p['rr-seq'].count)} sequential requests: p50 µs` },
    { scenario: 'rr-seq', key: 'p99Us', unit: 'µs', better: 'lower',
      label: `${n(p['rr-seq'].count)} sequential requests: p99 µs` },
    { scenario: 'rr-conc', key: 'wallMs', unit: 'ms', better: 'lower',
      label: `${n(p['rr-conc'].count)} concurrent requests: total ms` },
    { scenario: 'fanout', key: 'wallMs', unit: 'ms', better: 'lower',
      label: `fan-out, ${n(p.fanout.channels)} channels × 1 message: ms` },
  ];
}

const POINTS = [['start', 'start'], ['afterCycles', 'after cycles'], ['afterRequests', 'after requests']];

/**
 * Cold start, per environment: the first `count` messages of a fresh process (Node) or page (Chromium), CPU and
 * wall time from just before the client is created; and the module's load before it.
 */
function coldRows(info, env) {
  const c = info.params['cold-start'];
  const n = c.count.toLocaleString('en-US');
  const cpu = env === 'node' ? 'process CPU' : 'main-thread CPU';
  return [
    { key: 'cpuMs', label: `cold start: connect + first ${n} × ~${c.size} B, ${cpu} ms`, svg: true },
    { key: 'wallMs', label: `cold start: connect + first ${n} × ~${c.size} B, wall ms` },
    { key: 'loadMs', label: 'cold start: module load (import, wasm compile + instantiate), wall ms' },
    { key: 'loadCpuMs', label: `cold start: module load, ${cpu} ms` },
  ].map((def) => ({ scenario: 'cold-start', unit: 'ms', better: 'lower', kind: 'speed', ...def }));
}

/**
 * Footprint, per environment: what one connected client costs in memory after forced GCs. Node: the process's RSS;
 * Chromium: the JS heap in use (CDP Runtime.getHeapUsage) + the wasm linear memory. `vs`: the peer column the ratio
 * is taken against — in Node the peer on the global WebSocket, the same transport as ours and the floor.
 */
function footprintRows(env) {
  const vs = env === 'node' ? 'peer-gws' : 'peer';
  const vsName = env === 'node' ? 'peer on global WS' : 'peer';
  const [what, get] = env === 'node'
    ? ['RSS', (r) => r.rss]
    : ['JS heap + wasm memory', (r) => r.heapUsed + r.wasmBytes];
  return [
    { key: 'total', get, label: `footprint, loaded + 1 client connected: ${what} after GC (ratio vs ${vsName})`, svg: true },
    { key: 'share', get, share: true, label: `footprint: own share of it (minus the bare WebSocket's, the floor)` },
  ].map((def) => ({ scenario: 'footprint', unit: 'bytes', better: 'lower', kind: 'memory', vs, ...def }));
}

/** All rows of the main table: { env, label, unit, better, kind, values: {client: median}, runs: {client: [..]} } */
function tableRows(report) {
  const { info, results, clients, memoryClients } = report;
  const footprintClients = report.footprintClients ?? {};
  const rows = [];
  for (const env of Object.keys(results)) {
    for (const def of speedRows(info)) {
      if (!results[env][def.scenario]) continue;
      const runs = {};
      const values = {};
      for (const client of clients[env]) {
        runs[client] = (results[env][def.scenario]?.[client] ?? []).map((r) => r[def.key]);
        values[client] = median(runs[client]);
      }
      const label = HANDLER_METERED.includes(env) && def.key.startsWith('cpu') ? `${def.label} (in WebSocket handlers)` : def.label;
      rows.push({ env, ...def, label, kind: 'speed', values, runs });
    }
    if (results[env]['cold-start']) {
      for (const def of coldRows(info, env)) {
        const runs = {};
        const values = {};
        for (const client of clients[env]) {
          runs[client] = (results[env]['cold-start'][client] ?? []).map((r) => r[def.key]);
          values[client] = median(runs[client]);
        }
        rows.push({ env, ...def, values, runs });
      }
    }
    const memRuns = results[env].memory;
    if (memRuns) {
      for (const [point, pointLabel] of POINTS) {
        for (const [key, what] of [['heapUsed', 'JS heap'], ['wasmBytes', 'wasm memory'], ['total', 'JS heap + wasm']]) {
          const runs = {};
          const values = {};
          for (const client of memoryClients) {
            runs[client] = (memRuns[client] ?? []).map((r) => (key === 'total' ? r[point].heapUsed + r[point].wasmBytes : r[point][key]));
            values[client] = median(runs[client]);
          }
          rows.push({ env, scenario: 'memory', key, unit: 'bytes', better: 'lower', kind: 'memory',
            label: `memory ${pointLabel}: ${what}`, values, runs, noRatio: key === 'wasmBytes' });
        }
      }
    }
    const footRuns = results[env].footprint;
    if (footRuns) {
      const list = footprintClients[env] ?? Object.keys(footRuns);
      const all = Object.fromEntries(list.map((client) => [client, footRuns[client] ?? []]));
      all.floor ??= [];
      for (const def of footprintRows(env)) {
        const runs = {};
        const values = {};
        if (def.share) {
          // Ours − floor (and the peer's): medians subtracted; each run beside the floor's run of the same round.
          const floorMedian = median(all.floor.map(def.get));
          for (const client of list.filter((c) => c !== 'floor')) {
            runs[client] = all[client].map((r, i) => def.get(r) - def.get(all.floor[i] ?? { rss: NaN, heapUsed: NaN, wasmBytes: NaN }));
            values[client] = median(all[client].map(def.get)) - floorMedian;
          }
        } else {
          for (const client of list) {
            runs[client] = all[client].map(def.get);
            values[client] = median(runs[client]);
          }
        }
        rows.push({ env, ...def, values, runs });
      }
    }
  }
  const s = info.sizes;
  if (s) {
    rows.push({ env: 'size', label: 'wasm + glue JS, raw', unit: 'bytes', better: 'lower', kind: 'size',
      values: { ours: s.oursRaw, peer: NaN }, noRatio: true });
    rows.push({ env: 'size', label: 'wasm + glue JS, gzip -9', unit: 'bytes', better: 'lower', kind: 'size',
      values: { ours: s.oursGzip, peer: s.peerMin.gzip } });
    rows.push({ env: 'size', label: 'wasm + all JS minified (esbuild), gzip -9', unit: 'bytes', better: 'lower', kind: 'size',
      values: { ours: s.oursMinTotalGzip, peer: s.peerMin.gzip } });
  }
  return rows;
}

function tableCells(row) {
  const v = row.values;
  const vs = row.vs ?? 'peer';
  // A ratio of shares means something only when both are above the floor.
  const rOurPeer = row.noRatio || (row.share && !(v.ours > 0 && v[vs] > 0)) ? NaN : ratio(v.ours, v[vs]);
  const rOurFloor = ratio(v.ours, v.floor);
  return {
    env: ENV_NAMES[row.env] ?? row.env,
    label: row.label + (row.better === 'higher' ? ' ↑' : ' ↓'),
    ours: fmt(v.ours, row.unit),
    peer: fmt(v.peer, row.unit),
    peerGws: fmt(v['peer-gws'], row.unit),
    floor: fmt(v.floor, row.unit),
    rPeer: fmtRatio(rOurPeer),
    rFloor: fmtRatio(rOurFloor),
    verdict: row.share ? shareVerdict(v.ours, v[vs]) : verdict(rOurPeer, row.better, row.kind),
  };
}

const HEAD = ['env', 'metric (↑ higher is better, ↓ lower)', 'ours', 'peer', 'peer, global WS (Node)', 'floor', 'ours/peer', 'ours/floor', 'ours vs peer'];

/**
 * The rows over Server-Sent Events: ours and the bare fetch reader (the floor) over SSE, beside ours over
 * WebSocket from the same rounds, as cells.
 */
function sseCells(report) {
  const { info, results } = report;
  const out = [];
  for (const env of Object.keys(report.sseClients ?? {})) {
    for (const def of speedRows(info)) {
      const runs = results[env]?.[def.scenario];
      if (!runs?.['ours-sse']) continue;
      const value = (client) => median((runs[client] ?? []).map((r) => r[def.key]));
      const [sse, floor, ws] = [value('ours-sse'), value('floor-sse'), value('ours')];
      out.push([ENV_NAMES[env] ?? env, def.label + (def.better === 'higher' ? ' ↑' : ' ↓'), fmt(sse, def.unit),
        fmt(floor, def.unit), fmt(ws, def.unit), fmtRatio(ratio(sse, floor)), fmtRatio(ratio(sse, ws))]);
    }
  }
  return out;
}
const SSE_HEAD = ['env', 'metric (↑ higher is better, ↓ lower)', 'ours over SSE', 'floor over SSE', 'ours over WebSocket',
  'SSE: ours/floor', 'ours: SSE/WebSocket'];

function textTable(head, rows) {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)));
  const numeric = (i) => i >= 2 && i < head.length - (head === HEAD ? 1 : 0);
  const line = (r) => r.map((cell, i) => (numeric(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function renderTable(report) {
  const rows = tableRows(report).map(tableCells).map((c) => [c.env, c.label, c.ours, c.peer, c.peerGws, c.floor, c.rPeer, c.rFloor, c.verdict]);
  const sse = sseCells(report);
  return textTable(HEAD, rows) + (sse.length ? `\n\nover Server-Sent Events:\n${textTable(SSE_HEAD, sse)}` : '');
}

function sseMarkdown(report) {
  const rows = sseCells(report);
  if (!rows.length) return '';
  const out = [`| ${SSE_HEAD.join(' | ')} |`, `|${SSE_HEAD.map((_, i) => (i >= 2 ? '---:' : '---')).join('|')}|`];
  for (const row of rows) out.push(`| ${row.join(' | ')} |`);
  return `### Over Server-Sent Events

The same scenarios over SSE (\`transport: 'sse'\`), against the blast server's SSE (an event stream read with
\`fetch\`, a POST per message sent): ours, and a bare \`fetch\` reader that splits the stream into events and calls
\`JSON.parse\` and one callback per message (the floor), beside ours over WebSocket from the same rounds. The JS
client has no row: its \`SSEClient\` needs \`EventSource\` (none in Node 20) and hears only unnamed events.

${out.join('\n')}
`;
}

function markdownTable(report) {
  const rows = tableRows(report).map(tableCells);
  const out = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i >= 2 && i <= 7 ? '---:' : '---')).join('|')}|`];
  for (const c of rows) {
    out.push(`| ${[c.env, c.label, c.ours, c.peer, c.peerGws, c.floor, c.rPeer, c.rFloor, c.verdict].join(' | ')} |`);
  }
  return out.join('\n');
}

function runsDetails(report) {
  const out = [];
  for (const row of tableRows(report)) {
    if (!row.runs) continue;
    const parts = Object.entries(row.runs)
      .filter(([, list]) => list.length)
      .map(([client, list]) => `${client}: ${list.map((x) => fmt(x, row.unit)).join(', ')}`);
    out.push(`| ${ENV_NAMES[row.env]} | ${row.label} | ${parts.join('<br>')} |`);
  }
  return ['| env | metric | every run, in round order |', '|---|---|---|', ...out].join('\n');
}

// ---- SVG ---------------------------------------------------------------------------------------------------------

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Every ratio as a cost (ours ÷ other, < 1 = ours cheaper), on a log scale. */
export function renderSvg(report) {
  const bars = [];
  for (const row of tableRows(report)) {
    if (row.kind === 'memory' && row.key !== 'total') continue;
    if ((row.scenario === 'cold-start' || row.scenario === 'footprint') && !row.svg) continue;
    const costOf = (other) => {
      const r = ratio(row.values.ours, row.values[other]);
      return row.better === 'higher' ? 1 / r : r;
    };
    const label = `${ENV_NAMES[row.env] ?? row.env}: ${row.label
      .replace(/: messages\/s$/, ': time per message')
      .replace(/:? (µs|ms)$/, '')}`;
    const peer = row.noRatio ? NaN : costOf(row.vs ?? 'peer');
    const floor = costOf('floor');
    if (!Number.isFinite(peer) && !Number.isFinite(floor)) continue;
    bars.push({ label, peer, floor });
  }
  const finite = bars.flatMap((b) => [b.peer, b.floor]).filter(Number.isFinite);
  const maxLog = Math.max(1, Math.ceil(Math.log2(Math.max(...finite, 1.01))));
  const minLog = Math.min(-1, Math.floor(Math.log2(Math.min(...finite, 0.99))));
  const labelW = 430;
  const plotW = 520;
  const rowH = 34;
  const top = 70;
  const width = labelW + plotW + 40;
  const height = top + bars.length * rowH + 60;
  const x = (v) => labelW + ((Math.log2(v) - minLog) / (maxLog - minLog)) * plotW;
  const x1 = x(1);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="12" y="22" font-size="15" font-weight="bold">pondsocket-wasm: cost relative to the peer JS client and to the floor (medians)</text>`);
  out.push(`<text x="12" y="42" fill="#444">bar = ours ÷ other, as a cost (time, CPU, bytes; throughput inverted to time per message); log scale; left of 1× = ours cheaper</text>`);
  out.push(`<rect x="${labelW}" y="50" width="10" height="10" fill="#2f6fb0"/><text x="${labelW + 14}" y="59">ours ÷ peer</text>`);
  out.push(`<rect x="${labelW + 110}" y="50" width="10" height="10" fill="#aaa"/><text x="${labelW + 124}" y="59">ours ÷ floor (bare WebSocket + JSON.parse)</text>`);
  for (let e = minLog; e <= maxLog; e++) {
    const gx = x(2 ** e);
    out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + bars.length * rowH}" stroke="${e === 0 ? '#000' : '#e3e3e3'}" stroke-width="${e === 0 ? 1.5 : 1}"/>`);
    const tick = e >= 0 ? `${2 ** e}×` : `1/${2 ** -e}×`;
    out.push(`<text x="${gx}" y="${top + bars.length * rowH + 16}" text-anchor="middle" fill="#444">${tick}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${labelW - 8}" y="${y + 20}" text-anchor="end">${esc(b.label)}</text>`);
    [[b.peer, '#2f6fb0', 4], [b.floor, '#aaa', 17]].forEach(([v, color, dy]) => {
      if (!Number.isFinite(v)) return;
      const xv = x(v);
      const [from, to] = xv >= x1 ? [x1, xv] : [xv, x1];
      out.push(`<rect x="${from.toFixed(1)}" y="${y + dy}" width="${Math.max(1, to - from).toFixed(1)}" height="11" fill="${color}"/>`);
      const tx = xv >= x1 ? to + 4 : from - 4;
      out.push(`<text x="${tx.toFixed(1)}" y="${y + dy + 10}" font-size="10" text-anchor="${xv >= x1 ? 'start' : 'end'}" fill="#222">${v.toFixed(2)}×</text>`);
    });
  });
  const i = report.info;
  out.push(`<text x="12" y="${height - 14}" fill="#666" font-size="11">${esc(`${i.ours} @ ${i.commit}, ${i.peer.split(' (')[0]}; Node ${i.node}, Chromium ${i.chromium ?? '-'}; ${i.nproc} cores ${i.cpu}; generated by scripts/bench.sh${i.quick ? ' --quick' : ''}`)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

// ---- Markdown ----------------------------------------------------------------------------------------------------

/** How busy the floor's main thread was in Chromium's 200 B inbound run: if far from 100%, the browser is the limit. */
function browserNote(report) {
  const floor = report.results.browser?.['inbound-small']?.floor;
  if (!floor?.length) return '';
  const busy = median(floor.map((r) => (r.cpuUsPerMsg * r.msgsPerSec) / 1e6));
  if (!(busy < 0.8)) return '';
  return `- **Chromium's messages/s**: the floor's main thread was busy only ${(busy * 100).toFixed(0)}% of the time while it received the
  ~200 B blast, so the limit there is outside the page's main thread — the browser's path from its network process to
  the page, and on two cores the competition for them — and about the same for every client; CPU per message is the
  figure that tells the clients apart there.
`;
}

/** The hand-written part of the document (targets, attempts, limits), kept in bench/FINDINGS.md. */
function findings() {
  const file = new URL('./FINDINGS.md', import.meta.url);
  return existsSync(file) ? `${readFileSync(file, 'utf8').trim()}\n\n` : '';
}

/** The "Size" section, written by scripts/size.sh --markdown into bench/SIZE.md, kept when this file is rewritten. */
function sizeSection() {
  const file = new URL('./SIZE.md', import.meta.url);
  return existsSync(file) ? `${readFileSync(file, 'utf8').trim()}\n\n` : '';
}

export function renderMarkdown(report) {
  const { info } = report;
  const p = info.params;
  const s = info.sizes;
  const n = (x) => x.toLocaleString('en-US');
  const server = info.serverStats;
  const serverUsPerFrame = server && server.framesSent ? (server.cpuMs * 1000) / server.framesSent : NaN;
  const load = (l) => l.map((x) => x.toFixed(2)).join(', ');
  return `# Benchmarks

Generated by \`scripts/bench.sh\` (do not edit by hand; run it again). ${info.quick ? '**This is a `--quick` smoke run: few messages, one round — not figures to quote.**' : ''}

![ratios](benchmarks.svg)

## Setup

| | |
|---|---|
| command | \`${info.command}\` |
| when | ${info.finishedAt ?? new Date().toISOString()}, took ${Math.round(info.durationS)} s |
| machine | ${info.nproc} cores, ${info.cpu}, ${info.memGiB.toFixed(1)} GiB memory, ${info.os}; load average ${load(info.loadStart)} at start, ${load(info.loadEnd)} at end |
| ours | ${info.ours}, commit ${info.commit}${info.dirty ? ` (${info.dirty})` : ''}, pkg/ built ${info.pkgBuilt} (wasm sha256 ${info.wasmSha}…) |
| peer | ${info.peer}, from npm |
| Node | ${info.node} (\`--experimental-websocket --expose-gc\`) |
| Chromium | ${info.chromium ?? 'not run'} (headless, driven by playwright-core ${info.playwright}) |
| Firefox | ${info.firefox ?? 'not run'} (headless, geckodriver, \`tests/playwright/webdriver.mjs\`) |
| WebKit | ${info.webkit ?? 'not run'} (MiniBrowser under Xvfb, WebKitWebDriver, \`tests/playwright/webdriver.mjs\`) |
| server | \`bench/blast-server.mjs\` on Node ${info.node} + ws ${info.ws}, loopback |
| tools | esbuild ${info.esbuild} (peer bundle and minification) |
| rounds | ${info.rounds} per speed figure, ${info.memoryRounds} per memory figure${info.coldRounds ? `, ${info.coldRounds} per cold-start figure, ${info.footprintRounds} per footprint figure` : ''}, interleaved (each round runs every client, the order rotating between rounds and scenarios); every figure is the median |

## Results

${markdownTable(report)}

${sseMarkdown(report)}
Ratios are ours ÷ other, of the medians; "ours vs peer" reads them in the right direction. Sizes are the same in
both environments: ours is \`pkg/web/pondsocket_wasm_bg.wasm\` + \`pkg/web/pondsocket_wasm.js\` (${bytes(s.wasm.raw)} + ${bytes(s.glue.raw)} raw,
${bytes(s.wasm.gzip)} + ${bytes(s.glue.gzip)} gzipped), and with all of its JS (\`index.js\`, \`api.mjs\`, the glue) bundled and minified by esbuild:
${bytes(s.oursMin.raw)} → ${bytes(s.oursMin.gzip)} gzipped beside the wasm; the peer is its package entry bundled for the browser and minified
by esbuild: ${bytes(s.peerMin.raw)} → ${bytes(s.peerMin.gzip)} gzipped.

${sizeSection()}${findings()}## What this measures

- **Clients.** *ours*: the built \`pkg/\` (browser: \`pkg/index.js\`; Node: \`pkg/node/index.cjs\` on Node's global
  \`WebSocket\`). *peer*: \`@eleven-am/pondsocket-client\` as shipped — in the browser its package entry bundled by esbuild
  for the browser (global \`WebSocket\`); in Node its Node class, which uses the \`websocket\` npm package instead of
  Node's \`WebSocket\`. *peer, global WS* (Node only): the peer's own browser class on Node's global \`WebSocket\`, the same
  transport as ours and the floor, so that ours ÷ it is a comparison of client code alone. *floor*: a bare
  \`WebSocket\`, one \`JSON.parse\` and one callback per message, a \`Map\` from requestId to the waiting promise
  (\`bench/scenarios.mjs\`, \`FloorClient\`): what any client of this protocol has to pay at least.
- **Runs.** Each run is a fresh Node process, or a fresh browser context (a new renderer) in one Chromium, with one
  client connected to the blast server over loopback; it warms up first (${n(p['inbound-small'].warmup)} and ${n(p['inbound-large'].warmup)} inbound messages,
  ${n(p['rr-seq'].warmup)} sequential and ${n(p['rr-conc'].warmup)} concurrent requests, one fan-out round), pauses (50 ms in Node, 250 ms in
  Chromium, for background compilation to finish), then measures.
- **Inbound**: one joined channel, one \`onMessageEvent\` callback; the client asks for a blast and the server writes
  ${n(p['inbound-small'].count)} (or ${n(p['inbound-large'].count)}) \`BROADCAST\` frames, one object of ~200 B (or ~20 KB) of payload each, as fast as the socket
  takes them. messages/s = count ÷ time from the request to the last callback. **CPU per message**: Node —
  \`process.cpuUsage()\` (user + system, the whole client process, GC threads included) over the same span; Chromium —
  the renderer main thread's \`TaskDuration\` from CDP \`Performance.getMetrics\` with \`timeDomain: threadTicks\` (main-thread
  CPU time: event dispatch, script, wasm, GC on that thread; the network process's work on the frames is not in it);
  Firefox and WebKit (inbound and sequential requests only) — the time the page's main thread spends inside
  WebSocket event handlers (\`bench/page.mjs\` wraps every handler a client installs, before the client loads, and
  sums \`performance.now()\` around each call, precise to 20 µs or better in this cross-origin-isolated page): the
  client's parsing, routing and callbacks, not the engine's dispatch, not work a client defers to a later task.
  The callback checks every payload's sequence number: a lost, repeated or reordered message fails the run, and a
  final request/reply checks that no extra message came.
- **Request/response**: \`sendForResponse('echo', {k})\`, the server replies at once with the same payload; every reply is
  checked against its request. Sequential: one at a time, p50/p99 of the individual round trips
  (\`performance.now()\`; the page is cross-origin isolated, so its clock is precise). Concurrent: ${n(p['rr-conc'].count)} issued at once,
  the time until all resolved.
- **Fan-out**: ${n(p.fanout.channels)} channels joined on one client, a callback on each; one request makes the server send one message to
  each channel; the time until every channel got its own message (exactly one each).
- **Memory** (ours and the peer): after forcing garbage collection (Node \`--expose-gc\` \`gc()\`, Chromium CDP
  \`HeapProfiler.collectGarbage\`, three times with pauses so that wasm-bindgen's FinalizationRegistry cleanups run), the
  JS heap in use (Node \`process.memoryUsage().heapUsed\`, Chromium CDP \`Runtime.getHeapUsage().usedSize\`) and our
  wasm linear memory (\`WebAssembly.Memory\` \`buffer.byteLength\`: in the browser from the exports that the wasm-bindgen
  glue's \`init()\` hands back; in Node caught as the glue creates its \`WebAssembly.Instance\`). Points: connected with
  one channel joined; after ${n(p.memory.cycles)} cycles of createChannel/join (until JOINED)/leave on distinct channel names; after ${n(p.memory.requests)} more
  requests (${p.memory.batch} concurrent at a time). Wasm memory never shrinks, so it is the high-water mark, not what is live.
  The heap figure includes the runtime's own baseline (the same for both clients in one environment).
${p['cold-start'] ? `- **Cold start**: a fresh Node process (\`node --expose-gc bench/node-run.mjs\`) or a fresh page in a new browser context
  (a new renderer, nothing cached: the server sends \`Cache-Control: no-store\`) per run, no warm-up, no pause. The
  client's module is loaded first and timed on its own (**module load**: Node — \`require\`/\`import\` of the package,
  which for ours reads, compiles and instantiates the wasm synchronously; Chromium — the dynamic \`import()\` of the
  package, which for ours fetches, compiles and instantiates the wasm; wall time by \`performance.now()\`, CPU as below).
  Then, from just before the client is created to the listener's ${n(p['cold-start'].count)}th message: connect, join one channel, a blast of
  ${n(p['cold-start'].count)} \`BROADCAST\` frames of ~${p['cold-start'].size} B (checked in order, as in the inbound scenario). **CPU**: Node —
  \`process.cpuUsage()\` (user + system, every thread of the process: lazy compilation and the background tier-up of
  the wasm and of the JS are in it); Chromium — the renderer main thread's \`TaskDuration\` (CDP, \`threadTicks\`): work
  on V8's background threads (streaming compilation, tier-up to TurboFan) is not in it; a function compiled lazily on
  its first call is, and so is the slower code the main thread runs until tier-up is done. Wall time too
  (\`performance.now()\`). The warm scenarios above hide all of this.
` : ''}${p.footprint ? `- **Footprint**: a fresh process or page that loads one client and connects it (nothing joined), waits ${n(p.footprint.settleMs ?? 1000)} ms
  (in Node, the first HTTP request of undici, the WebSocket handshake here, holds up to ~30 MB more for ~100 ms
  while it sets up its wasm HTTP parser; read sooner, that decided the figure), then forces garbage collection three times (Node \`gc()\`, Chromium CDP \`HeapProfiler.collectGarbage\`, with pauses) and reads
  the memory. Node: the process's resident set, \`process.memoryUsage().rss\` (the wasm's compiled code, its linear
  memory and the JS heap all in it; the processes run with \`${info.footprintEnv || 'MALLOC_MMAP_THRESHOLD_=65536'}\`: with glibc's adaptive default,
  whether ~7 MB that undici frees after its first request stayed resident was a coin toss per process, two modes ~7 MB
  apart for every client alike; fixed, one client's runs nearly always agree within ~0.3 MB), for ours, the peer's browser class on Node's global \`WebSocket\` (the peer as
  shipped brings the \`websocket\` package instead; ratios are against the former), and the floor, a bare global
  \`WebSocket\`. Chromium: the JS heap in use (CDP \`Runtime.getHeapUsage().usedSize\`) plus ours' wasm linear memory
  (\`WebAssembly.Memory\` \`buffer.byteLength\`); compiled code, wasm's included, is not in either figure. **Own share**:
  the client's median minus the floor's median — what the client adds to a page or process that already has a
  WebSocket; "ours vs peer" gives the difference of the two shares.
` : ''}- **The server is not the bottleneck**: it writes prebuilt raw WebSocket frames straight to the socket, paced by
  backpressure; over the whole run it spent ${Number.isFinite(serverUsPerFrame) ? serverUsPerFrame.toFixed(2) : '—'} µs of CPU per blast frame
  (${server ? n(server.framesSent) : '—'} frames), i.e. it could feed ${Number.isFinite(serverUsPerFrame) ? n(Math.round(1e6 / serverUsPerFrame)) : '—'} frames/s, well above the fastest client. With two cores the
  server and the client each have about one; in Chromium the network process shares them too, the same for every
  client (the floor shows that ceiling).
${browserNote(report)}- **Noise**: other work on the machine (builds, tests) shows as spread between rounds; the medians damp it. Every run
  is below.

<details><summary>Every run</summary>

${runsDetails(report)}

</details>
`;
}
