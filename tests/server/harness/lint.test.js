// Lint diagnostics and their quick fixes against the real binary: a project whose compile flags
// put the repository's runtime on the include path, so libclang sees the `async` annotations.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const cp = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { workspace, start, init, shutdownExit, generateTwins } = require('./lib');

const RUNTIME_INCLUDE = path.resolve(__dirname, '..', '..', '..', 'runtime', 'include');
const CONFIG = JSON.stringify({ sources: ['*.c'], compile_flags: [`-I${RUNTIME_INCLUDE}`] }, null, 2) + '\n';
const LINTED = [
  '#include <unasync/async.h>',
  '',
  'static async int fetch(int id) { return await async_sleep_ms((uint64_t)id); }',
  '',
  'static async int body(void) {',
  '    return fetch(1);',
  '}',
  '',
  'int exported(void) { return 0; }',
  'static int (*keep)(void) = body;',
  '',
].join('\n');
// a second source with a UA001 of its own, which no editor opens in the fix-all test
const OTHER = [
  '#include <unasync/async.h>',
  '',
  'static async int get(int id) { return await async_sleep_ms((uint64_t)id); }',
  '',
  'static async int run(void) {',
  '    return get(2);',
  '}',
  'static int (*keep)(void) = run;',
  '',
].join('\n');
const open = (s, u, text, version = 1) => s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: u, languageId: 'c', version, text } });
const CAPS = { workspace: { applyEdit: true, workspaceEdit: { documentChanges: true } } };

test('lint diagnostics on open carry the rule code; typing re-lints; quick fixes edit the source and unasync.json', async (t) => {
  const ws = workspace(t, { 'unasync.json': CONFIG, 'x.c': LINTED });
  await generateTwins(t, ws.dir);
  const s = start(t, { onRequest: { 'workspace/applyEdit': () => ({ applied: true }) } });
  await init(s, ws.dir, { caps: CAPS });
  const src = ws.uri('x.c');
  await open(s, src, LINTED);
  const d = await s.diagsOf(src, (x) => x.some((e) => e.code === 'UA001') && x.some((e) => e.code === 'UA005'));
  const ua001 = d.find((e) => e.code === 'UA001');
  // every lint diagnostic links to its rule's page
  assert.match(ua001.codeDescription.href, /^file:\/\/.*\/lint\/UA001\.md$/);
  assert.deepStrictEqual(ua001.range, { start: { line: 5, character: 11 }, end: { line: 5, character: 16 } });
  assert.strictEqual(ua001.severity, 1);
  assert.match(ua001.message, /call to async function 'fetch' without await/);
  const ua005 = d.find((e) => e.code === 'UA005');
  assert.strictEqual(ua005.range.start.line, 8);

  // the quick fix for UA001 inserts await in the open document
  const acts = await s.conn.sendRequest('textDocument/codeAction', {
    textDocument: { uri: src }, range: ua001.range, context: { diagnostics: [ua001] },
  });
  const insert = acts.find((a) => a.title === "Insert 'await'");
  assert.ok(insert, `no Insert 'await' among ${JSON.stringify(acts.map((a) => a.title))}`);
  assert.strictEqual(insert.kind, 'quickfix');
  assert.strictEqual(insert.command.command, 'unasync.lintFix');
  await s.conn.sendRequest('workspace/executeCommand', insert.command);
  const edit = await s.until('applyEdit', () => s.requests.find((r) => r.method === 'workspace/applyEdit'));
  const change = edit.params.edit.documentChanges[0];
  assert.strictEqual(change.textDocument.uri, src);
  assert.deepStrictEqual(change.edits, [{ range: { start: { line: 5, character: 11 }, end: { line: 5, character: 11 } }, newText: 'await ' }]);

  // typing the fix in: the UA001 diagnostic goes away once typing pauses (no save needed)
  const fixed = LINTED.replace('return fetch(1);', 'return await fetch(1);');
  await s.conn.sendNotification('textDocument/didChange', { textDocument: { uri: src, version: 2 }, contentChanges: [{ text: fixed }] });
  await s.diagsOf(src, (x) => !x.some((e) => e.code === 'UA001') && x.some((e) => e.code === 'UA005'));

  // the UA005 fix adds a rename rule to unasync.json, which is not open: written to disk
  const ua005now = (await s.diagsOf(src, (x) => x.some((e) => e.code === 'UA005'))).find((e) => e.code === 'UA005');
  const acts5 = await s.conn.sendRequest('textDocument/codeAction', {
    textDocument: { uri: src }, range: ua005now.range, context: { diagnostics: [ua005now] },
  });
  const rule = acts5.find((a) => a.title.startsWith('Add rename rule "exported"'));
  assert.ok(rule, `no rename-rule fix among ${JSON.stringify(acts5.map((a) => a.title))}`);
  await s.conn.sendRequest('workspace/executeCommand', rule.command);
  const cfg = JSON.parse(fs.readFileSync(ws.file('unasync.json'), 'utf8'));
  assert.deepStrictEqual(cfg.rename, { exported: 'sync_exported' });
  // the configuration is reloaded: the collision is gone
  await s.diagsOf(src, (x) => !x.some((e) => e.code === 'UA005'));
  await shutdownExit(s);
});

test('an ignore comment and an "off" severity silence lint diagnostics in the editor', async (t) => {
  const text = LINTED.replace('return fetch(1);', 'return fetch(1); // unasync: ignore[UA001]');
  const cfg = JSON.stringify({ sources: ['*.c'], compile_flags: [`-I${RUNTIME_INCLUDE}`], lint: { UA005: 'off' } });
  const ws = workspace(t, { 'unasync.json': cfg, 'x.c': text });
  await generateTwins(t, ws.dir);
  const s = start(t);
  await init(s, ws.dir, { caps: CAPS });
  const src = ws.uri('x.c');
  await open(s, src, text);
  // a UA001 on another line proves the lint ran
  const more = text.replace('static int (*keep)', 'static async int more(void) { return fetch(2); }\nstatic int (*keep)');
  await s.conn.sendNotification('textDocument/didChange', { textDocument: { uri: src, version: 2 }, contentChanges: [{ text: more }] });
  const d = await s.diagsOf(src, (x) => x.some((e) => e.code === 'UA001'));
  assert.deepStrictEqual(d.filter((e) => e.code.startsWith('UA0')).map((e) => [e.code, e.range.start.line]), [['UA001', 9]]);
  await shutdownExit(s);
});

test('a save publishes drift first: the lint of the new bytes follows in a later publish', async (t) => {
  const ws = workspace(t, { 'unasync.json': CONFIG, 'x.c': LINTED });
  await generateTwins(t, ws.dir);
  const s = start(t);
  await init(s, ws.dir);
  const src = ws.uri('x.c');
  await open(s, src, LINTED);
  await s.diagsOf(src, (x) => x.some((e) => e.code === 'UA001'));
  // a second call without await (a new UA001 on line 10) that also makes the twin stale,
  // saved at once: the lint has not seen these bytes when the save arrives
  const edited = LINTED + 'static async int more(void) { return fetch(3); }\nstatic int (*keep2)(void) = more;\n';
  const newUa001 = (x) => x.some((e) => e.code === 'UA001' && e.range.start.line === 10);
  const n0 = s.notes.length;
  await s.conn.sendNotification('textDocument/didChange', { textDocument: { uri: src, version: 2 }, contentChanges: [{ text: edited }] });
  await s.conn.sendNotification('textDocument/didSave', { textDocument: { uri: src } });
  await s.diagsOf(src, (x) => x.some((e) => e.code === 'UA202') && newUa001(x));
  const after = s.notes.slice(n0).filter((n) => n.method === 'textDocument/publishDiagnostics' && n.params.uri === src);
  const firstDrift = after.findIndex((n) => n.params.diagnostics.some((e) => e.code === 'UA202'));
  assert.ok(firstDrift >= 0, 'no drift diagnostic was published');
  assert.ok(!newUa001(after[firstDrift].params.diagnostics), 'the drift publish waited for the lint of the new bytes');
  // the lint diagnostics already shown stay in the drift publish until the lint replaces them
  assert.ok(after[firstDrift].params.diagnostics.some((e) => e.code === 'UA001' && e.range.start.line === 5));
  await shutdownExit(s);
});

test('a pull client: the pull after a save answers with drift, the lint follows after a refresh', async (t) => {
  const ws = workspace(t, { 'unasync.json': CONFIG, 'x.c': LINTED });
  await generateTwins(t, ws.dir);
  const s = start(t);
  const res = await init(s, ws.dir, { caps: { textDocument: { diagnostic: { dynamicRegistration: false } },
    workspace: { diagnostics: { refreshSupport: true } } } });
  assert.ok(res.capabilities.diagnosticProvider);
  const src = ws.uri('x.c');
  const pull = async () => (await s.conn.sendRequest('textDocument/diagnostic', { textDocument: { uri: src } })).items;
  const refreshes = () => s.requests.filter((r) => r.method === 'workspace/diagnostic/refresh').length;
  await open(s, src, LINTED);
  const edited = LINTED + 'static async int more(void) { return fetch(3); }\nstatic int (*keep2)(void) = more;\n';
  const newUa001 = (x) => x.some((e) => e.code === 'UA001' && e.range.start.line === 10);
  await s.conn.sendNotification('textDocument/didChange', { textDocument: { uri: src, version: 2 }, contentChanges: [{ text: edited }] });
  await s.conn.sendNotification('textDocument/didSave', { textDocument: { uri: src } });
  let seen = refreshes();
  const first = await pull(); // right after the save: the drift, whatever the lint is doing
  assert.ok(first.some((e) => e.code === 'UA202'), JSON.stringify(first));
  assert.ok(!newUa001(first), 'the pull waited for the lint of the new bytes');
  // the lint of the new bytes ends in a refresh (the drift's own change may send one first):
  // pull after each until the lint is there, the drift still with it
  let items = first;
  while (!newUa001(items)) {
    await s.until('a refresh once the lint is done', () => refreshes() > seen);
    seen = refreshes();
    items = await pull();
  }
  assert.ok(items.some((e) => e.code === 'UA202'));
  await shutdownExit(s);
});

/** The text after an applyEdit's edits of one document (positions in ASCII text: any unit). */
function applyEdits(text, edits) {
  const offset = (p) => {
    let off = 0;
    for (let l = 0; l < p.line; l++) off = text.indexOf('\n', off) + 1;
    return off + p.character;
  };
  const spans = edits.map((e) => [offset(e.range.start), offset(e.range.end), e.newText]);
  spans.sort((a, b) => b[0] - a[0]);
  for (const [a, b, ins] of spans) text = text.slice(0, a) + ins + text.slice(b);
  return text;
}

test('source.fixAll leaves the bytes unasync --fix leaves: open buffers by applyEdit, the rest on disk', async (t) => {
  const CLI = process.env.UNASYNC_CLI;
  assert.ok(CLI, 'UNASYNC_CLI is not set: run this through meson test');
  const files = { 'unasync.json': CONFIG, 'x.c': LINTED, 'y.c': OTHER };
  const cli = workspace(t, files);
  const srv = workspace(t, files);
  const read = (w, n) => fs.readFileSync(w.file(n), 'utf8');
  const run = cp.spawnSync(CLI, ['--fix'], { cwd: cli.dir, encoding: 'utf8' });
  assert.ok(run.status === 0 || run.status === 1, `unasync --fix exited ${run.status}: ${run.stderr}`);
  // the CLI fixed both sources and added the rename rule: something for the server to match
  assert.notStrictEqual(read(cli, 'x.c'), LINTED);
  assert.notStrictEqual(read(cli, 'y.c'), OTHER);
  assert.notStrictEqual(read(cli, 'unasync.json'), CONFIG);

  const s = start(t);
  await init(s, srv.dir, { caps: CAPS });
  const src = srv.uri('x.c');
  await open(s, src, LINTED);
  await s.diagsOf(src, (x) => x.some((e) => e.code === 'UA001'));
  const at = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const acts = await s.conn.sendRequest('textDocument/codeAction', { textDocument: { uri: src }, range: at, context: { diagnostics: [], only: ['source.fixAll'] } });
  const fixAll = acts.find((a) => a.command && a.command.command === 'unasync.fixAll');
  assert.ok(fixAll, `no unasync.fixAll among ${JSON.stringify(acts.map((a) => a.title))}`);
  assert.strictEqual(fixAll.kind, 'source.fixAll.unasync');
  await s.conn.sendRequest('workspace/executeCommand', fixAll.command);
  // the open source: edits of its buffer, never a write behind the editor's back
  const changes = s.requests.filter((r) => r.method === 'workspace/applyEdit')
    .flatMap((r) => r.params.edit.documentChanges).filter((c) => c.textDocument.uri === src);
  assert.ok(changes.length > 0, 'no applyEdit for the open source');
  assert.strictEqual(changes.reduce((text, c) => applyEdits(text, c.edits), LINTED), read(cli, 'x.c'));
  assert.strictEqual(read(srv, 'x.c'), LINTED);
  // the rest on disk, byte for byte what --fix wrote: the other source, the rule, both twins
  for (const name of ['y.c', 'unasync.json', 'sync_x.c', 'sync_y.c'])
    assert.strictEqual(read(srv, name), read(cli, name), `${name} differs from unasync --fix's`);
  await shutdownExit(s);
});
