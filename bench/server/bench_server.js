// Benchmarks of the language server, measured by a client driving the real binary over stdio:
// save -> publishDiagnostics latency on a 10,000-line async source over 200+ saves (p50/p99;
// after a typing pause, immediately after the keystroke, and after a pause with the idle
// pre-check switched off so that nothing is done in advance), and immediately after the
// keystroke on a 100,000-line source,
// beside the round-trip of a no-op request in the same run; resident memory with 1,000
// documents open, beside a fresh server. Prints the project's one-line format.
// Usage: node bench_server.js SERVER_BINARY [SAVES]
'use strict';
const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const SERVER = process.argv[2];
const SAVES = Number(process.argv[3] || 200);
const PAUSE_MS = 300; // a typing pause before the save, longer than the server's 50 ms idle delay plus one transform

function client(args = []) {
  const proc = cp.spawn(SERVER, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  let buf = Buffer.alloc(0);
  const waiters = [];
  let nextId = 1;
  proc.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const sep = buf.indexOf('\r\n\r\n');
      if (sep < 0) break;
      const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, sep).toString())[1]);
      if (buf.length < sep + 4 + len) break;
      const msg = JSON.parse(buf.subarray(sep + 4, sep + 4 + len).toString());
      buf = buf.subarray(sep + 4 + len);
      if (msg.method && msg.id !== undefined) send({ id: msg.id, result: msg.method === 'workspace/applyEdit' ? { applied: true } : null });
      for (const w of waiters.splice(0)) if (!w(msg)) waiters.push(w);
    }
  });
  const send = (m) => {
    const b = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...m }));
    proc.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`), b]));
  };
  const next = (pred) => new Promise((res) => waiters.push((m) => (pred(m) ? (res(m), true) : false)));
  const request = (method, params) => { const id = nextId++; const p = next((m) => m.id === id && !m.method); send({ id, method, params }); return p; };
  const notify = (method, params) => send({ method, params });
  const close = async () => { await request('shutdown'); notify('exit'); await new Promise((r) => proc.on('exit', r)); };
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]) / 1024;
  return { proc, send, next, request, notify, close, rss };
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const line = (name, v, unit, what, b, target) =>
  console.log(`bench ${name}: ${v.toFixed(3)} ${unit} | baseline ${what}: ${b.toFixed(3)} ${unit} | ratio ${(v / b).toFixed(2)} | target ${target}`);

function bigSource(lines) {
  const out = ['#include <unasync/async.h>', ''];
  for (let i = 0; out.length < lines - 6; i++) {
    out.push(`async int fetch_${i}(client_t *c, int id) {`, `    await async_mutex_lock(&c->lock);`,
      `    int rc = await async_tcp_write(c->conn, id); /* call ${i} */`, `    await async_sleep_ms(rc);`, '    return rc;', '}', '');
  }
  while (out.length < lines) out.push('');
  return out.join('\n') + '\n';
}

async function main() {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ua-bench-')));
  try {
    const src = bigSource(10000);
    fs.writeFileSync(path.join(dir, 'unasync.json'), '{ "sources": ["big.c"] }\n');
    fs.writeFileSync(path.join(dir, 'big.c'), src);
    const root = pathToFileURL(dir).href;
    const initParams = { processId: process.pid, rootUri: root, workspaceFolders: [{ uri: root, name: 'b' }],
      capabilities: { general: { positionEncodings: ['utf-8'] } } };

    // generate the twin, then measure the baseline on a fresh server
    let c = client();
    await c.request('initialize', initParams);
    c.notify('initialized', {});
    await c.request('workspace/executeCommand', { command: 'unasync.regenerateAll', arguments: [] });
    const noop = [];
    for (let i = 0; i < SAVES; i++) {
      const t0 = process.hrtime.bigint();
      await c.request('unasync/noop', {}); // unknown request: -32601, the cheapest round-trip
      noop.push(ms(t0));
    }
    await c.close();

    // save -> publishDiagnostics on the twin: every save alternates drift and no drift, so
    // every save changes the diagnostics and is published exactly once. "paused": the user
    // stops typing for PAUSE_MS before saving (the server prepares the check meanwhile);
    // "immediate": the save follows the keystroke at once (a cold transform every time).
    const saveLatency = async (pauseMs, args = [], name = 'big', text0 = src, saves = SAVES) => {
      const c2 = client(args);
      await c2.request('initialize', initParams);
      c2.notify('initialized', {});
      const srcUri = `${root}/${name}.c`, twinUri = `${root}/sync_${name}.c`;
      c2.notify('textDocument/didOpen', { textDocument: { uri: srcUri, languageId: 'c', version: 1, text: text0 } });
      await c2.request('unasync/noop', {});
      const lat = [];
      const lineNo = 6; // `    return rc;` of fetch_0
      for (let i = 0; i < saves; i++) {
        const text = i % 2 === 0 ? '    return rc + 1;' : '    return rc;';
        const old = i % 2 === 0 ? '    return rc;' : '    return rc + 1;';
        c2.notify('textDocument/didChange', { textDocument: { uri: srcUri, version: i + 2 },
          contentChanges: [{ range: { start: { line: lineNo, character: 0 }, end: { line: lineNo, character: old.length } }, text }] });
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
        const want = i % 2 === 0 ? 1 : 0;
        const published = c2.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === twinUri && m.params.diagnostics.length === want);
        const t0 = process.hrtime.bigint();
        c2.notify('textDocument/didSave', { textDocument: { uri: srcUri } });
        await published;
        lat.push(ms(t0));
      }
      await c2.close();
      return lat;
    };
    const paused = await saveLatency(PAUSE_MS);
    const immediate = await saveLatency(0);
    const noPrecheck = await saveLatency(PAUSE_MS, ['--no-precheck']);
    const huge = bigSource(100000);
    fs.writeFileSync(path.join(dir, 'unasync.json'), '{ "sources": ["big.c", "huge.c"] }\n');
    fs.writeFileSync(path.join(dir, 'huge.c'), huge);
    {
      const c3 = client();
      await c3.request('initialize', initParams);
      c3.notify('initialized', {});
      await c3.request('workspace/executeCommand', { command: 'unasync.regenerateAll', arguments: [] });
      await c3.close();
    }
    const hugeImmediate = await saveLatency(0, [], 'huge', huge, Math.max(50, SAVES / 2));
    // the memory figure below is about open documents, not the 100,000-line source's cache
    fs.writeFileSync(path.join(dir, 'unasync.json'), '{ "sources": ["big.c"] }\n');
    for (const f of ['huge.c', 'sync_huge.c']) fs.rmSync(path.join(dir, f), { force: true });
    line('server_save_to_diagnostics_p50', pct(paused, 50), 'ms', 'no-op request round-trip p50', pct(noop, 50), 'p99 <= 10 ms');
    line('server_save_to_diagnostics_p99', pct(paused, 99), 'ms', 'no-op request round-trip p99', pct(noop, 99), '<= 10 ms');
    line('server_save_immediately_after_typing_p50', pct(immediate, 50), 'ms', 'no-op request round-trip p50', pct(noop, 50), '(cold transform)');
    line('server_save_immediately_after_typing_p99', pct(immediate, 99), 'ms', 'no-op request round-trip p99', pct(noop, 99), '<= 10 ms');
    line('server_save_no_precheck_p50', pct(noPrecheck, 50), 'ms', 'no-op request round-trip p50', pct(noop, 50), '(idle pre-check off)');
    line('server_save_no_precheck_p99', pct(noPrecheck, 99), 'ms', 'no-op request round-trip p99', pct(noop, 99), '<= 10 ms');
    line('server_save_100k_lines_immediately_p50', pct(hugeImmediate, 50), 'ms', 'no-op request round-trip p50', pct(noop, 50), '(cold transform)');
    line('server_save_100k_lines_immediately_p99', pct(hugeImmediate, 99), 'ms', 'no-op request round-trip p99', pct(noop, 99), '<= 20 ms');

    // resident memory with 1,000 documents open
    c = client();
    await c.request('initialize', initParams);
    c.notify('initialized', {});
    await c.request('unasync/noop', {});
    const fresh = c.rss();
    const doc = bigSource(200);
    for (let i = 0; i < 1000; i++) {
      c.notify('textDocument/didOpen', { textDocument: { uri: `${root}/doc_${i}.c`, languageId: 'c', version: 1, text: doc } });
    }
    await c.request('unasync/noop', {});
    const full = c.rss();
    await c.close();
    line('server_rss_1000_docs', full, 'MiB', 'fresh server', fresh, `(none set; ${(doc.length * 1000 / 1048576).toFixed(1)} MiB of text open)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
