// The size check behind scripts/size.sh: what a page loads from the package's browser entry, measured the same way
// every time (pinned esbuild, gzip -9 -n), against the one budget in bench/size-budget.txt.
//
//   node bench/size.mjs [--detail] [--peer] [--markdown]
//     --detail    also the wasm's biggest parts: sections, code by crate, the 25 biggest functions (names from a
//                 rebuild of the same cargo output with the name section kept); printed anyway when over budget
//     --peer      also @eleven-am/pondsocket-client bundled and minified the same way (from target/bench-deps)
//     --markdown  --detail and --peer, and write the "Size" section: bench/SIZE.md, spliced into docs/BENCHMARKS.md
//                 (scripts/bench.sh includes bench/SIZE.md when it rewrites that file)
// Exits 1 when bundle + wasm, gzipped, is above the budget; 2 on any other failure.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = process.env.PONDSOCKET_TOOLS || join(os.homedir(), '.cache/pondsocket-wasm-tools');
const DEPS = resolve(ROOT, process.env.BENCH_DEPS || 'target/bench-deps');
const PKG = join(ROOT, 'pkg');
const OUT = join(ROOT, 'target', 'size');
const BUDGET_FILE = join(ROOT, 'bench', 'size-budget.txt');
const WASM = join(PKG, 'web', 'pondsocket_wasm_bg.wasm');
const GLUE = join(PKG, 'web', 'pondsocket_wasm.js');
const TOP = Number(process.env.SIZE_TOP ?? 25);

const argv = process.argv.slice(2);
for (const a of argv) {
  if (!['--detail', '--peer', '--markdown'].includes(a)) {
    console.error(`size: unknown option ${a} (--detail, --peer, --markdown)`);
    process.exit(2);
  }
}
const markdown = argv.includes('--markdown');
const detailWanted = markdown || argv.includes('--detail');
const peerWanted = markdown || argv.includes('--peer');

const rel = (p) => relative(ROOT, p);
const gzipSize = (buf) => execFileSync('gzip', ['-9', '-n', '-c'], { input: buf, maxBuffer: 64 << 20 }).length;
const kib = (b) => (b / 1024).toFixed(1);
const n = (x) => x.toLocaleString('en-US');
let esbuild; // from scripts/setup.sh's tools, loaded in main() so that its absence is an error (2), not "over budget" (1)

// ---- the bundle: pkg/index.js and everything it imports, as bench/run.mjs bundles both clients -------------------

const BUNDLE_OPTIONS = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true,
  legalComments: 'none', logLevel: 'error', metafile: true, write: true, absWorkingDir: ROOT };

async function bundle(entry, outfile, extra = {}) {
  const result = await esbuild.build({ ...BUNDLE_OPTIONS, ...extra, entryPoints: [entry], outfile });
  const out = Object.values(result.metafile.outputs)[0];
  const code = readFileSync(outfile);
  return {
    raw: code.length,
    gzip: gzipSize(code),
    // what each input file became in the minified bundle (esbuild's own accounting)
    inputs: Object.entries(out.inputs).map(([path, { bytesInOutput }]) => ({ path, bytesInOutput })),
  };
}

async function measureOurs() {
  const ours = await bundle(join(PKG, 'index.js'), join(OUT, 'ours.browser.min.mjs'));
  const wasmBytes = readFileSync(WASM);
  const wasm = { raw: wasmBytes.length, gzip: gzipSize(wasmBytes) };
  const files = ours.inputs.map(({ path, bytesInOutput }) => {
    const abs = resolve(ROOT, path);
    const text = readFileSync(abs);
    return { file: rel(abs), raw: text.length, gzip: gzipSize(text), inBundle: bytesInOutput };
  });
  return { wasm, files, bundle: { raw: ours.raw, gzip: ours.gzip },
    total: { raw: wasm.raw + ours.raw, gzip: wasm.gzip + ours.gzip } };
}

async function measurePeer() {
  const entry = join(OUT, 'peer-entry.mjs');
  writeFileSync(entry, "export { PondClient, ChannelState, ConnectionState } from '@eleven-am/pondsocket-client';\n");
  const peer = await bundle(entry, join(OUT, 'peer.browser.min.mjs'), { nodePaths: [join(DEPS, 'node_modules')] });
  const byPackage = new Map();
  for (const { path, bytesInOutput } of peer.inputs) {
    const m = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    const name = m ? m[1] : '(entry)';
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  const version = (name) => JSON.parse(readFileSync(join(DEPS, 'node_modules', name, 'package.json'), 'utf8')).version;
  return {
    version: version('@eleven-am/pondsocket-client'),
    bundle: { raw: peer.raw, gzip: peer.gzip },
    packages: [...byPackage].filter(([name, b]) => b > 0 && name !== '(entry)').sort((a, b) => b[1] - a[1])
      .map(([name, bytes]) => ({ name: name === '(entry)' ? name : `${name} ${version(name)}`, bytes })),
  };
}

// ---- the wasm's parts: sections, functions with their names ------------------------------------------------------

function parseWasm(buf) {
  let p = 8;
  const u32 = () => {
    let result = 0, shift = 0, byte;
    do { byte = buf[p++]; result += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return result;
  };
  const name = () => { const len = u32(); const s = buf.toString('utf8', p, p + len); p += len; return s; };
  const limits = () => { const flags = buf[p++]; u32(); if (flags & 1) u32(); };
  const sections = [];
  let importedFuncs = 0;
  const bodies = [];
  const names = new Map();
  const exports = new Map(); // function index → export name
  while (p < buf.length) {
    const start = p;
    const id = buf[p++];
    const size = u32();
    const contentStart = p;
    const end = p + size;
    let label = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element',
      'code', 'data', 'datacount', 'tag'][id] ?? `section ${id}`;
    if (id === 0) {
      const custom = name();
      label = `custom "${custom}"`;
      if (custom === 'name') {
        while (p < end) {
          const sub = buf[p++];
          const subSize = u32();
          const subEnd = p + subSize;
          if (sub === 1) {
            for (let count = u32(); count > 0; count--) { const index = u32(); names.set(index, name()); }
          }
          p = subEnd;
        }
      }
    } else if (id === 2) {
      for (let count = u32(); count > 0; count--) {
        name(); name();
        const kind = buf[p++];
        if (kind === 0) { u32(); importedFuncs++; } else if (kind === 1) { p++; limits(); } else if (kind === 2) { limits(); } else if (kind === 3) { p += 2; } else if (kind === 4) { p++; u32(); }
      }
    } else if (id === 7) {
      for (let count = u32(); count > 0; count--) {
        const exportName = name();
        const kind = buf[p++];
        const index = u32();
        if (kind === 0) exports.set(index, exportName);
      }
    } else if (id === 10) {
      for (let count = u32(); count > 0; count--) {
        const bodyStart = p;
        const bodySize = u32();
        p += bodySize;
        bodies.push(p - bodyStart); // the body with its size prefix, as twiggy counts a function
      }
    }
    sections.push({ label, bytes: end - start, contentStart });
    p = end;
  }
  const exported = new Set(exports.values());
  const functions = bodies.map((bytes, i) => {
    const index = importedFuncs + i;
    const fname = names.get(index);
    // wasm-bindgen names the wrapper it puts in front of an export after it: `pondclient_new externref shim`
    const isExport = exports.has(index) || (fname !== undefined && exported.has(fname.replace(/( (externref|multivalue) shim)+$/, '')));
    return { index, bytes, name: fname, exported: isExport };
  });
  return { sections, functions, named: names.size > 0 };
}

// Rust's legacy mangling (`_ZN…E`), in case a name is still mangled, and the hash at the end of demangled ones.
function demangle(symbol) {
  let s = symbol;
  const m = s.match(/^_?_ZN(.*)E$/);
  if (m) {
    const parts = [];
    let rest = m[1];
    while (rest.length && /^\d/.test(rest)) {
      const len = Number(rest.match(/^\d+/)[0]);
      const digits = String(len).length;
      parts.push(rest.slice(digits, digits + len));
      rest = rest.slice(digits + len);
    }
    s = parts.join('::');
    const codes = { SP: '@', BP: '*', RF: '&', LT: '<', GT: '>', LP: '(', RP: ')', C: ',' };
    s = s.replace(/\$([A-Z]{1,2})\$/g, (all, c) => codes[c] ?? all)
      .replace(/\$u([0-9a-f]{2,6})\$/g, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
      .replace(/\.\./g, '::')
      .replace(/(^|::)_\$/g, '$1$');
  }
  return s.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '');
}

// The crate a function's code comes from: the first crate in its path (`<T as Trait>::f` counts under T's crate if T
// is a path, else under Trait's), so `core` and `alloc` hold std's generic code made for our types. Exported
// functions (wasm-bindgen's wrappers of `#[wasm_bindgen]` methods, with everything inlined into them) have no path.
function crateOf(name, exported) {
  if (/^__wbg|^__wbindgen|^__externref/.test(name)) return '(wasm-bindgen runtime)';
  if (exported) return '(exported functions, with what they inline)';
  const m = name.match(/(?:^|[^A-Za-z0-9_])([a-z_][a-z0-9_]*)::/);
  if (m) return m[1];
  if (/^\(function \d+\)$/.test(name)) return '(functions without a name)';
  return '(other symbols without a path)';
}

// Cargo's output, saved by scripts/build-pkg.sh beside its wasm-pack builds; rebuilt through wasm-bindgen and
// wasm-opt with the flags wasm-pack used, plus -g (names kept), its code is the shipped wasm's code with names.
function namedWasm() {
  const candidates = [join(ROOT, 'target/pkg-build/pondsocket_wasm.cargo.wasm'),
    join(ROOT, 'target/wasm32-unknown-unknown/release/pondsocket_wasm.wasm')];
  const input = candidates.find((f) => existsSync(f));
  if (!input) throw new Error('no cargo output to take names from: run scripts/build-pkg.sh');
  const dir = join(OUT, 'names');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('wasm-bindgen', [input, '--target', 'web', '--weak-refs', '--no-typescript', '--out-dir', dir,
    '--out-name', 'pondsocket_wasm'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const cargoToml = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8');
  const flagsLine = cargoToml.match(/^\[package\.metadata\.wasm-pack\.profile\.release\][^[]*?^wasm-opt\s*=\s*\[([^\]]*)\]/ms);
  const flags = flagsLine ? [...flagsLine[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]) : ['-Oz'];
  const named = join(dir, 'pondsocket_wasm_bg.named.wasm');
  execFileSync('wasm-opt', [join(dir, 'pondsocket_wasm_bg.wasm'), '-o', named, ...flags, '-g'],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  return { input: rel(input), file: named, flags };
}

function wasmParts() {
  const shipped = parseWasm(readFileSync(WASM));
  const source = namedWasm();
  const named = parseWasm(readFileSync(source.file));
  const code = (w) => w.sections.find((s) => s.label === 'code')?.bytes ?? 0;
  const sameCode = code(shipped) === code(named) && shipped.functions.length === named.functions.length;
  const codeBytes = code(named);
  const functions = named.functions.map((f) => ({ ...f, name: f.name ? demangle(f.name) : `(function ${f.index})` }))
    .sort((a, b) => b.bytes - a.bytes || a.index - b.index);
  const crates = new Map();
  for (const f of functions) {
    const c = crateOf(f.name, f.exported);
    const entry = crates.get(c) ?? { crate: c, bytes: 0, functions: 0 };
    entry.bytes += f.bytes;
    entry.functions += 1;
    crates.set(c, entry);
  }
  // Every function, for a closer look than the top of the list: bytes, crate, name.
  writeFileSync(join(OUT, 'functions.tsv'), functions.map((f) => `${f.bytes}\t${crateOf(f.name, f.exported)}\t${f.name}\n`).join(''));
  return {
    source, sameCode, codeBytes, shippedCodeBytes: code(shipped),
    sections: shipped.sections.map(({ label, bytes }) => ({ label, bytes })).sort((a, b) => b.bytes - a.bytes),
    crates: [...crates.values()].sort((a, b) => b.bytes - a.bytes),
    functions,
  };
}

// ---- output -------------------------------------------------------------------------------------------------------

// align: one letter a column, l or r; by default the first column left, the others right
function textTable(head, rows, align = `l${'r'.repeat(head.length - 1)}`) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (align[i] === 'r' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i])))
    .join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function mdTable(head, rows, align = `l${'r'.repeat(head.length - 1)}`) {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (align[i] === 'r' ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function note(file) {
  if (file === rel(GLUE)) return ' (wasm-bindgen glue)';
  if (file.includes('/snippets/')) return " (a crate's JS module)";
  return '';
}

function oursRows(s, md = false) {
  const code = (x) => (md ? `\`${x}\`` : x);
  const bold = (x) => (md ? `**${x}**` : x);
  const dash = '—';
  return [
    [`wasm ${code(rel(WASM))}`, n(s.wasm.raw), kib(s.wasm.raw), dash, n(s.wasm.gzip), kib(s.wasm.gzip)],
    ...s.files.map((f) => [`JS ${code(f.file)}${note(f.file)}`, n(f.raw), kib(f.raw), n(f.inBundle), n(f.gzip), kib(f.gzip)]),
    ['JS bundle: the JS above, bundled and minified', dash, dash, n(s.bundle.raw), n(s.bundle.gzip), kib(s.bundle.gzip)],
    [bold('total: wasm + JS bundle'), n(s.total.raw), kib(s.total.raw), dash, bold(n(s.total.gzip)), bold(kib(s.total.gzip))],
  ];
}
const OURS_HEAD = ['part', 'bytes', 'KiB', 'minified in bundle, bytes', 'gzip -9, bytes', 'gzip -9, KiB'];

function readBudget() {
  const lines = readFileSync(BUDGET_FILE, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (lines.length !== 1 || !/^\d+$/.test(lines[0])) throw new Error(`${rel(BUDGET_FILE)}: expected one number of bytes (and # comments)`);
  return Number(lines[0]);
}

function git(...args) {
  try {
    return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch { return ''; }
}

function provenance() {
  const commit = git('rev-parse', '--short=10', 'HEAD') || 'unknown (not a git checkout)';
  // the last commit that changed what the package is built from, when that is not HEAD itself
  const sourcesCommit = git('log', '-1', '--format=%h', '--abbrev=10', '--', 'src', 'crates', 'Cargo.toml', 'Cargo.lock',
    'pkg-template', '.cargo');
  const changed = git('status', '--porcelain', '--', 'src', 'crates', 'Cargo.toml', 'Cargo.lock', 'pkg-template', '.cargo');
  const built = statSync(WASM).mtime;
  const sources = ['src', 'crates', 'Cargo.toml', 'Cargo.lock', 'pkg-template', '.cargo'].filter((p) => existsSync(join(ROOT, p)));
  const stale = execFileSync('find', [...sources, '-newer', WASM, '-print', '-quit'], { cwd: ROOT, encoding: 'utf8' }).trim();
  return { commit, sourcesCommit, dirty: changed ? changed.split('\n').length : 0, built: built.toISOString(), stale };
}

function topFunctionsText(parts) {
  return textTable(['#', 'bytes', '% of code', 'function'], parts.functions.slice(0, TOP).map((f, i) =>
    [String(i + 1), n(f.bytes), `${((f.bytes / parts.codeBytes) * 100).toFixed(1)} %`, f.name]), 'rrrl');
}

function renderMarkdown(s, peer, parts, prov, budget) {
  const esbuildVersion = esbuild.version;
  const ratio = (a, b) => (a / b).toFixed(1);
  const peerRows = [
    ['JS bundle (esbuild, minified)', n(peer.bundle.raw), kib(peer.bundle.raw), n(peer.bundle.gzip), kib(peer.bundle.gzip),
      n(s.bundle.gzip), kib(s.bundle.gzip), `${ratio(s.bundle.gzip, peer.bundle.gzip)} ×`],
    ['wasm', '—', '—', '—', '—', n(s.wasm.gzip), kib(s.wasm.gzip), ''],
    ['**total**', n(peer.bundle.raw), kib(peer.bundle.raw), `**${n(peer.bundle.gzip)}**`, `**${kib(peer.bundle.gzip)}**`,
      `**${n(s.total.gzip)}**`, `**${kib(s.total.gzip)}**`, `**${ratio(s.total.gzip, peer.bundle.gzip)} ×**`],
  ];
  const cratesRows = parts.crates.slice(0, 12).map((c) => [c.crate, n(c.functions), n(c.bytes), kib(c.bytes),
    `${((c.bytes / parts.codeBytes) * 100).toFixed(1)} %`]);
  const rest = parts.crates.slice(12);
  if (rest.length) {
    const bytes = rest.reduce((a, c) => a + c.bytes, 0);
    cratesRows.push([`${rest.length} others`, n(rest.reduce((a, c) => a + c.functions, 0)), n(bytes), kib(bytes),
      `${((bytes / parts.codeBytes) * 100).toFixed(1)} %`]);
  }
  const sectionRows = parts.sections.filter((x) => x.bytes >= 100).map((x) => [x.label, n(x.bytes), kib(x.bytes)]);
  const fnRows = parts.functions.slice(0, TOP).map((f, i) => [String(i + 1), n(f.bytes),
    `${((f.bytes / parts.codeBytes) * 100).toFixed(1)} %`, `\`${f.name.replace(/\|/g, '\\|')}\``]);
  return `## Size

Written by \`scripts/size.sh --markdown\` (do not edit by hand; run it again) from commit ${prov.commit}${prov.sourcesCommit && !prov.commit.startsWith(prov.sourcesCommit) ? ` (the package's sources as of ${prov.sourcesCommit})` : ''}${prov.dirty ? ` with ${prov.dirty} uncommitted change(s) to the Rust sources or pkg-template/` : ''}. These
figures are that commit's and will be rewritten as the size work lands. \`scripts/size.sh\` (a stage of
\`scripts/test.sh\`) fails when the total below, gzipped, is above the budget in \`bench/size-budget.txt\`:
${n(budget)} bytes (the issue's ceiling is 35 KB). What a page loads from the package's browser entry: \`pkg/index.js\`
and everything it imports, bundled and minified by esbuild ${esbuildVersion} (\`--bundle --minify --format=esm
--platform=browser --target=es2022\`, the way \`bench/run.mjs\` bundles both clients), plus the wasm it fetches;
each gzipped with \`gzip -9 -n\`. The JS files' own sizes are as shipped in \`pkg/\`; "minified in bundle" is what
each became in the bundle (esbuild's metafile).

${mdTable(OURS_HEAD, oursRows(s, true))}

Beside the JS client \`@eleven-am/pondsocket-client\` ${peer.version}, its package entry bundled and minified the same way
(\`scripts/size.sh --peer\`; the peer as \`scripts/bench.sh\` installs it, in \`target/bench-deps\`); in its bundle, by package:
${peer.packages.map((p) => `${p.name} ${n(p.bytes)} bytes`).join(', ')}.

${mdTable(['', 'peer, bytes', 'peer, KiB', 'peer, gzip -9 bytes', 'peer, gzip -9 KiB', 'ours, gzip -9 bytes', 'ours, gzip -9 KiB', 'ours ÷ peer'], peerRows)}

### Biggest parts of the wasm

Sections of \`${rel(WASM)}\` (bytes, before gzip):

${mdTable(['section', 'bytes', 'KiB'], sectionRows)}

Code by crate: a function counts under the first crate named in its path (\`<T as Trait>::f\` under T's crate when
T is a path, else under the trait's), so \`core\` and \`alloc\` hold std's generic code made for our types; an exported
function is the wrapper wasm-bindgen puts in front of a \`#[wasm_bindgen]\` method (\`pondclient_new externref shim\`
is \`new PondClient()\`), with the method and what it calls inlined into it. Names from the same cargo output rebuilt with them kept
(\`wasm-bindgen\` with the package's flags, then \`wasm-opt ${parts.source.flags.join(' ')} -g\`)${parts.sameCode ? '; its code section is byte for byte the size of the shipped one' : `; **its code section (${n(parts.codeBytes)} bytes) differs from the shipped one (${n(parts.shippedCodeBytes)}): names from another build**`}:

${mdTable(['crate', 'functions', 'bytes', 'KiB', 'of code'], cratesRows)}

<details><summary>The ${TOP} biggest functions (scripts/size.sh --detail)</summary>

${mdTable(['#', 'bytes', 'of code', 'function'], fnRows, 'rrrl')}

</details>
`;
}

function writeMarkdown(section) {
  writeFileSync(join(ROOT, 'bench', 'SIZE.md'), section);
  const doc = join(ROOT, 'docs', 'BENCHMARKS.md');
  if (!existsSync(doc)) return [rel(join(ROOT, 'bench', 'SIZE.md'))];
  let text = readFileSync(doc, 'utf8');
  const block = `${section.trim()}\n\n`;
  const start = text.indexOf('\n## Size\n');
  if (start >= 0) {
    const next = text.slice(start + 1).search(/\n## (?!#)/);
    const end = next >= 0 ? start + 1 + next + 1 : text.length;
    text = `${text.slice(0, start + 1)}${block}${text.slice(end)}`;
  } else {
    const anchor = ['\n## Targets, attempts', '\n## What this measures'].map((a) => text.indexOf(a)).find((i) => i >= 0);
    text = anchor === undefined ? `${text.trimEnd()}\n\n${block}` : `${text.slice(0, anchor + 1)}${block}${text.slice(anchor + 1)}`;
  }
  writeFileSync(doc, text);
  return [rel(join(ROOT, 'bench', 'SIZE.md')), rel(doc)];
}

async function main() {
  esbuild = createRequire(join(TOOLS, 'noop.js'))('esbuild');
  mkdirSync(OUT, { recursive: true });
  const budget = readBudget();
  const prov = provenance();
  const s = await measureOurs();
  const over = s.total.gzip > budget;

  console.log(`pondsocket-wasm browser entry, commit ${prov.commit}${prov.dirty ? ` + ${prov.dirty} uncommitted change(s) to the sources` : ''}, pkg/ built ${prov.built}`);
  console.log(`esbuild ${esbuild.version} --bundle --minify --format=esm --platform=browser --target=es2022; gzip -9 -n`);
  if (prov.stale) console.log(`warning: ${prov.stale} changed after pkg/ was built: this measures the old build (scripts/build-pkg.sh)`);
  console.log();
  console.log(textTable(OURS_HEAD, oursRows(s)));
  console.log();

  let peer;
  if (peerWanted) {
    peer = await measurePeer();
    console.log(`peer @eleven-am/pondsocket-client ${peer.version}, bundled the same way: ${n(peer.bundle.raw)} bytes (${kib(peer.bundle.raw)} KiB), `
      + `gzip -9 ${n(peer.bundle.gzip)} bytes (${kib(peer.bundle.gzip)} KiB); ours ÷ peer, gzipped: `
      + `${(s.total.gzip / peer.bundle.gzip).toFixed(1)} × (JS alone ${(s.bundle.gzip / peer.bundle.gzip).toFixed(2)} ×)`);
    console.log(`  by package: ${peer.packages.map((p) => `${p.name} ${n(p.bytes)}`).join(', ')}`);
    console.log();
  }

  let parts;
  if (detailWanted || over) {
    try {
      parts = wasmParts();
    } catch (error) {
      console.log(`could not list the wasm's biggest functions: ${error.message}`);
      if (!over) throw error;
    }
  }
  if (parts) {
    console.log(`wasm sections: ${parts.sections.filter((x) => x.bytes >= 100).map((x) => `${x.label} ${n(x.bytes)}`).join(', ')}`);
    console.log(`names from ${parts.source.input} through wasm-bindgen and wasm-opt ${parts.source.flags.join(' ')} -g: `
      + (parts.sameCode ? `code section ${n(parts.codeBytes)} bytes, the same as the shipped wasm's`
        : `WARNING: code section ${n(parts.codeBytes)} bytes, the shipped wasm's ${n(parts.shippedCodeBytes)}: another build (rebuild pkg/)`));
    console.log();
    console.log('code by crate:');
    console.log(textTable(['crate', 'functions', 'bytes', 'of code'], parts.crates.slice(0, 12).map((c) =>
      [c.crate, n(c.functions), n(c.bytes), `${((c.bytes / parts.codeBytes) * 100).toFixed(1)} %`])));
    console.log();
    console.log(`the ${TOP} biggest functions:`);
    console.log(topFunctionsText(parts));
    console.log();
  }

  if (markdown) {
    if (!parts) throw new Error("--markdown: no names for the wasm's functions");
    const written = writeMarkdown(renderMarkdown(s, peer, parts, prov, budget));
    console.log(`wrote ${written.join(' and ')}`);
  }

  const verdict = `bundle + wasm gzipped: ${n(s.total.gzip)} bytes (${kib(s.total.gzip)} KiB); budget ${n(budget)} bytes `
    + `(${rel(BUDGET_FILE)})`;
  if (over) {
    console.log(`OVER BUDGET by ${n(s.total.gzip - budget)} bytes: ${verdict}`);
    process.exit(1);
  }
  console.log(`within budget: ${verdict}`);
}

main().catch((error) => {
  console.error(`size: ${error.message}`);
  process.exit(2);
});
