// Workspace behaviour: multi-root folders, unasync.json reloads, settings from every source,
// file watching by the client (dynamic registration) or by libuv, the unasync/status counts.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { workspace, start, init, shutdownExit, generateTwins, SOURCE, uri } = require('./lib');

const EDITED = SOURCE.replace('return id;', 'return id + 1;');
const lastStatus = (s) => { const st = s.notes.filter((n) => n.method === 'unasync/status'); return st.length ? st.at(-1).params : undefined; };

test('multi-root: each folder has its own unasync.json; status counts all twins', async (t) => {
  const a = workspace(t);
  const b = workspace(t, { 'y.c': SOURCE.replace('fetch', 'fetch_y') });
  await generateTwins(t, a.dir);
  fs.writeFileSync(a.file('x.c'), EDITED); // a: 1 of 1 stale; b: 2 missing
  const s = start(t);
  await init(s, a.dir, { folders: [{ uri: uri(a.dir), name: 'a' }, { uri: uri(b.dir), name: 'b' }] });
  await s.until('status 3/3', () => { const st = lastStatus(s); return st && st.twins === 3 && st.outOfDate === 3; });
  await s.diagsOf(a.uri('sync_x.c'), (d) => d.length === 1);
  await s.diagsOf(b.uri('y.c'), (d) => d.length === 1 && /sync_y\.c is missing/.test(d[0].message));
  // a folder added later is checked too
  const c = workspace(t, { 'x.c': SOURCE });
  await s.conn.sendNotification('workspace/didChangeWorkspaceFolders', { event: { added: [{ uri: uri(c.dir), name: 'c' }], removed: [] } });
  await s.until('status 4 twins', () => lastStatus(s).twins === 4);
  assert.strictEqual(await shutdownExit(s), 0);
});

test('settings: initializationOptions, then didChangeConfiguration; severity follows', async (t) => {
  const ws = workspace(t);
  const s = start(t);
  await init(s, ws.dir, { caps: {}, options: { unasync: { drift: { severity: 'error' } } } });
  await s.diagsOf(ws.uri('x.c'), (d) => d.length === 1 && d[0].severity === 1);
  await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { unasync: { drift: { severity: 'hint' } } } });
  await s.diagsOf(ws.uri('x.c'), (d) => d.length === 1 && d[0].severity === 4);
  assert.ok(!s.requests.some((r) => r.method === 'workspace/configuration')); // not advertised: never asked
  assert.strictEqual(await shutdownExit(s), 0);
});

test('settings: workspace/configuration when advertised', async (t) => {
  const ws = workspace(t);
  const s = start(t, { onRequest: { 'workspace/configuration': (p) => p.items.map((i) => (i.section === 'unasync' ? { drift: { severity: 'information' } } : null)) } });
  await init(s, ws.dir, { caps: { workspace: { configuration: true } } });
  await s.diagsOf(ws.uri('x.c'), (d) => d.length === 1 && d[0].severity === 3);
  const req = s.requests.find((r) => r.method === 'workspace/configuration');
  assert.strictEqual(req.params.items[0].section, 'unasync');
  assert.strictEqual(req.params.items[0].scopeUri, ws.uri('').replace(/\/$/, ''));
  assert.strictEqual(await shutdownExit(s), 0);
});

test('settings: a client that never answers workspace/configuration is not waited for forever', async (t) => {
  const ws = workspace(t);
  const s = start(t, { onRequest: { 'workspace/configuration': () => new Promise(() => {}) } });
  await init(s, ws.dir, { caps: { workspace: { configuration: true } } });
  await s.diagsOf(ws.uri('x.c'), (d) => d.length === 1 && d[0].severity === 2); // the default
  assert.strictEqual(await shutdownExit(s), 0);
});

test('dynamic registration of file watching; a changed twin on disk is re-checked', async (t) => {
  const ws = workspace(t);
  await generateTwins(t, ws.dir);
  const s = start(t);
  await init(s, ws.dir, { caps: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } });
  const reg = await s.until('registerCapability', () => s.requests.find((r) => r.method === 'client/registerCapability'));
  const globs = reg.params.registrations[0].registerOptions.watchers.map((w) => w.globPattern);
  assert.ok(globs.includes('**/unasync.json'));
  await s.until('status', () => lastStatus(s) && lastStatus(s).outOfDate === 0);
  const twin = fs.readFileSync(ws.file('sync_x.c'), 'utf8');
  fs.writeFileSync(ws.file('sync_x.c'), twin.replace('return id;', 'return 0;'));
  await s.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: ws.uri('sync_x.c'), type: 2 }] });
  await s.diagsOf(ws.uri('sync_x.c'), (d) => d.length === 1 && d[0].code === 'UA203');
  assert.strictEqual(await shutdownExit(s), 0);
});

test('without dynamic registration the server watches with libuv (git checkout of a twin)', async (t) => {
  const ws = workspace(t);
  await generateTwins(t, ws.dir);
  const s = start(t);
  await init(s, ws.dir, { caps: {} });
  await s.until('status', () => lastStatus(s) && lastStatus(s).outOfDate === 0);
  assert.ok(!s.requests.some((r) => r.method === 'client/registerCapability'));
  // git checkout writes a new file and renames it over the old one
  const twin = fs.readFileSync(ws.file('sync_x.c'), 'utf8');
  fs.writeFileSync(ws.file('.sync_x.c.tmp'), twin.replace('return id;', 'return -1;'));
  fs.renameSync(ws.file('.sync_x.c.tmp'), ws.file('sync_x.c'));
  await s.diagsOf(ws.uri('sync_x.c'), (d) => d.length === 1);
  await s.until('status 1 out of date', () => lastStatus(s).outOfDate === 1);
  fs.writeFileSync(ws.file('sync_x.c'), twin);
  await s.diagsOf(ws.uri('sync_x.c'), (d) => d.length === 0);
  assert.strictEqual(await shutdownExit(s), 0);
});

test('unasync.json is reloaded when it changes', async (t) => {
  const ws = workspace(t);
  await generateTwins(t, ws.dir);
  const s = start(t);
  await init(s, ws.dir, { caps: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } });
  await s.until('status clean', () => lastStatus(s) && lastStatus(s).twins === 1 && lastStatus(s).outOfDate === 0);
  // a rename rule changes what the twin must contain
  fs.writeFileSync(ws.file('unasync.json'), '{ "sources": ["*.c"], "rename": { "fetch": "fetch_sync" }, "lint": { "UA000": "off", "UA005": "off" } }\n');
  await s.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: ws.uri('unasync.json'), type: 2 }] });
  await s.diagsOf(ws.uri('x.c'), (d) => d.length === 1 && /out of date/.test(d[0].message));
  await s.until('status stale', () => lastStatus(s).outOfDate === 1);
  assert.strictEqual(await shutdownExit(s), 0);
});

test('an invalid unasync.json is reported on the file with its line and column; fixed -> []', async (t) => {
  const ws = workspace(t, { 'unasync.json': '{\n  "sources": ["*.c"],\n  "no_such_key": 1\n}\n' });
  const s = start(t);
  await init(s, ws.dir, { caps: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } });
  const d = await s.diagsOf(ws.uri('unasync.json'), (x) => x.length >= 1);
  assert.strictEqual(d[0].range.start.line, 2);
  assert.match(d[0].message, /no_such_key/);
  fs.writeFileSync(ws.file('unasync.json'), '{ "sources": ["*.c"], "lint": { "UA000": "off", "UA005": "off" } }\n');
  await s.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: ws.uri('unasync.json'), type: 2 }] });
  await s.diagsOf(ws.uri('unasync.json'), (x) => x.length === 0);
  await s.diagsOf(ws.uri('x.c'), (x) => x.length === 1 && /missing/.test(x[0].message));
  assert.strictEqual(await shutdownExit(s), 0);
});

test('pull clients are asked to refresh when an open document\'s diagnostics change', async (t) => {
  const ws = workspace(t);
  await generateTwins(t, ws.dir);
  const s = start(t);
  await init(s, ws.dir, { caps: { textDocument: { diagnostic: {} }, workspace: { diagnostics: { refreshSupport: true } } } });
  const twin = ws.uri('sync_x.c'), src = ws.uri('x.c');
  await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: twin, languageId: 'c', version: 1, text: fs.readFileSync(ws.file('sync_x.c'), 'utf8') } });
  await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: src, languageId: 'c', version: 1, text: SOURCE } });
  assert.strictEqual((await s.conn.sendRequest('textDocument/diagnostic', { textDocument: { uri: twin } })).items.length, 0);
  await s.conn.sendNotification('textDocument/didChange', { textDocument: { uri: src, version: 2 }, contentChanges: [{ text: EDITED }] });
  await s.conn.sendNotification('textDocument/didSave', { textDocument: { uri: src } });
  await s.until('workspace/diagnostic/refresh', () => s.requests.some((r) => r.method === 'workspace/diagnostic/refresh'));
  const rep = await s.conn.sendRequest('textDocument/diagnostic', { textDocument: { uri: twin } });
  assert.strictEqual(rep.items.length, 1);
  // open documents are not pushed to a pull client (no duplicates in its Problems view)
  assert.ok(!(s.diags.get(twin) || []).length);
  assert.strictEqual(await shutdownExit(s), 0);
});
