// Structure-aware mutation of valid client messages, sent to the real binary: every request
// must get an answer and the server must survive. Mutations replace values with values of
// other types (never with paths), so nothing can point the server outside its temp workspace.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const { workspace, startRaw, rpc, generateTwins, SOURCE } = require('./lib');

// a small deterministic PRNG (xorshift32): the same mutations on every run
function prng(seed) {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}
const ODD = [null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 31), '', 'x', '\u{1F600}', [], {}, [1, 'a'], { a: { b: [] } }];

function mutate(value, rnd, depth = 0) {
  if (rnd() < 0.15) return ODD[Math.floor(rnd() * ODD.length)];
  if (Array.isArray(value)) {
    const out = value.map((v) => mutate(v, rnd, depth + 1));
    if (rnd() < 0.1) out.pop();
    return out;
  }
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (rnd() < 0.08) continue; // drop a key
      if (k === 'uri' || k === 'rootUri' || k === 'scopeUri') { out[k] = v; continue; } // never invent paths
      out[k] = mutate(v, rnd, depth + 1);
    }
    return out;
  }
  return value;
}

test('mutated messages never crash the server and every request is answered', async (t) => {
  const ws = workspace(t);
  await generateTwins(t, ws.dir);
  const twinText = fs.readFileSync(ws.file('sync_x.c'), 'utf8');
  const src = ws.uri('x.c'), twin = ws.uri('sync_x.c');
  const pos = { line: 4, character: 6 };
  const range = { start: { line: 4, character: 0 }, end: { line: 5, character: 0 } };
  const templates = [
    { method: 'textDocument/didOpen', params: { textDocument: { uri: src, languageId: 'c', version: 1, text: SOURCE } } },
    { method: 'textDocument/didOpen', params: { textDocument: { uri: twin, languageId: 'c', version: 1, text: twinText } } },
    { method: 'textDocument/didChange', params: { textDocument: { uri: twin, version: 2 }, contentChanges: [{ range, text: 'int q;\n' }] } },
    { method: 'textDocument/didChange', params: { textDocument: { uri: src, version: 3 }, contentChanges: [{ range, text: '' }, { text: SOURCE }] } },
    { method: 'textDocument/didSave', params: { textDocument: { uri: src } } },
    { method: 'textDocument/didClose', params: { textDocument: { uri: twin } } },
    { id: true, method: 'textDocument/hover', params: { textDocument: { uri: twin }, position: pos } },
    { id: true, method: 'textDocument/definition', params: { textDocument: { uri: twin }, position: pos } },
    { id: true, method: 'textDocument/codeAction', params: { textDocument: { uri: twin }, range, context: { diagnostics: [], only: ['quickfix', 'source.fixAll'] } } },
    { id: true, method: 'workspace/executeCommand', params: { command: 'unasync.regenerate', arguments: [src] } },
    { id: true, method: 'workspace/executeCommand', params: { command: 'unasync.regenerateAll', arguments: [] } },
    { method: 'workspace/didChangeConfiguration', params: { settings: { unasync: { drift: { severity: 'hint' }, lint: { enable: false } } } } },
    { method: 'workspace/didChangeWatchedFiles', params: { changes: [{ uri: twin, type: 2 }, { uri: ws.uri('unasync.json'), type: 2 }] } },
    { method: '$/cancelRequest', params: { id: 5 } },
    { method: '$/setTrace', params: { value: 'verbose' } },
    { id: true, result: [{ drift: { severity: 'error' } }] },
    { id: true, result: { applied: true } },
  ];
  const r = startRaw(t);
  r.write(rpc({ id: 0, method: 'initialize', params: { processId: null, rootUri: ws.uri(''), workspaceFolders: [{ uri: ws.uri(''), name: 'w' }],
    capabilities: { general: { positionEncodings: ['utf-16'] }, workspace: { configuration: true, applyEdit: true } } } }));
  r.write(rpc({ method: 'initialized', params: {} }));
  await r.reply(0);
  const rnd = prng(Number(process.env.MUTATION_SEED || 20261126));
  const asked = [];
  for (let i = 1; i <= 600; i++) {
    const tpl = templates[Math.floor(rnd() * templates.length)];
    const m = { ...tpl };
    if ('params' in tpl) m.params = mutate(JSON.parse(JSON.stringify(tpl.params)), rnd);
    if ('result' in tpl) m.result = mutate(JSON.parse(JSON.stringify(tpl.result)), rnd);
    if (tpl.id) {
      m.id = 1000 + i;
      if (tpl.method) asked.push(m.id);
    }
    if (m.params === undefined) delete m.params;
    r.write(rpc(m));
  }
  for (const id of asked) {
    const rep = await r.reply(id);
    assert.ok('result' in rep || 'error' in rep);
  }
  r.write(rpc({ id: 9999, method: 'shutdown' }));
  await r.reply(9999);
  r.write(rpc({ method: 'exit' }));
  assert.strictEqual(await r.exited, 0);
  // under the sanitizer builds, UBSan reports without stopping: read them
  assert.doesNotMatch(r.stderr(), /runtime error|AddressSanitizer|LeakSanitizer/);
});
