// Lifecycle per LSP 3.17 against the real binary: -32002, shutdown/exit statuses, stdin EOF,
// the client's processId dying, $/cancelRequest, $/setTrace, -32601, logs never on stdout.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const cp = require('node:child_process');
const { start, init, shutdownExit, startRaw, rpc, workspace, clientParams } = require('./lib');

test('requests before initialize get -32002; exit status 0 after shutdown', async (t) => {
  const s = start(t);
  await assert.rejects(s.conn.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///x.c' }, position: { line: 0, character: 0 } }),
    (e) => e.code === -32002);
  const res = await init(s, null);
  assert.strictEqual(res.capabilities.positionEncoding, 'utf-8');
  assert.strictEqual(res.capabilities.textDocumentSync.change, 2);
  await assert.rejects(s.conn.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} }), (e) => e.code === -32600);
  await assert.rejects(s.conn.sendRequest('unasync/noSuchMethod', {}), (e) => e.code === -32601);
  await s.conn.sendNotification('$/noSuchNotification', {}); // ignored, no reply
  await s.conn.sendRequest('shutdown');
  await assert.rejects(s.conn.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///x.c' }, position: { line: 0, character: 0 } }),
    (e) => e.code === -32600);
  await s.conn.sendNotification('exit');
  assert.strictEqual(await s.exited, 0);
});

test('exit without shutdown exits with status 1', async (t) => {
  const s = start(t);
  await init(s, null);
  await s.conn.sendNotification('exit');
  assert.strictEqual(await s.exited, 1);
});

test('end of stdin ends the server (status 0 after shutdown, 1 before)', async (t) => {
  const a = startRaw(t);
  a.write(rpc({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }));
  await a.reply(1);
  a.proc.stdin.end();
  assert.strictEqual(await a.exited, 1);
  const b = startRaw(t);
  b.write(rpc({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }));
  b.write(rpc({ id: 2, method: 'shutdown' }));
  await b.reply(2);
  b.proc.stdin.end();
  assert.strictEqual(await b.exited, 0);
});

test('the server exits when the client process named in processId dies', async (t) => {
  const parent = cp.spawn('sleep', ['600']);
  t.after(() => parent.kill('SIGKILL'));
  const s = start(t, { env: { UNASYNC_PARENT_POLL_MS: '50' } });
  await s.conn.sendRequest('initialize', { processId: parent.pid, rootUri: null, capabilities: {} });
  await s.conn.sendNotification('initialized', {});
  assert.strictEqual(s.proc.exitCode, null);
  parent.kill('SIGKILL');
  await new Promise((r) => parent.on('exit', r));
  assert.strictEqual(await s.exited, 1);
});

test('$/cancelRequest cancels a request still queued; -32800', async (t) => {
  const r = startRaw(t);
  r.write(rpc({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }));
  await r.reply(1);
  // request and cancellation arrive in one read: the request never runs
  r.write(Buffer.concat([
    rpc({ id: 2, method: 'textDocument/hover', params: { textDocument: { uri: 'file:///nowhere/x.c' }, position: { line: 0, character: 0 } } }),
    rpc({ method: '$/cancelRequest', params: { id: 2 } }),
    rpc({ id: 3, method: 'textDocument/hover', params: { textDocument: { uri: 'file:///nowhere/x.c' }, position: { line: 0, character: 0 } } }),
  ]));
  const two = await r.reply(2);
  assert.strictEqual(two.error.code, -32800);
  const three = await r.reply(3);
  assert.strictEqual(three.result, null);
  // cancelling something already answered is harmless
  r.write(rpc({ method: '$/cancelRequest', params: { id: 3 } }));
  r.write(rpc({ id: 4, method: 'shutdown' }));
  assert.strictEqual((await r.reply(4)).result, null);
});

test('$/setTrace turns $/logTrace on and off', async (t) => {
  // raw: vscode-jsonrpc consumes $/logTrace itself
  const r = startRaw(t);
  const hover = (id) => rpc({ id, method: 'textDocument/hover', params: { textDocument: { uri: 'file:///nowhere/x.c' }, position: { line: 0, character: 0 } } });
  r.write(rpc({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }));
  r.write(rpc({ method: '$/setTrace', params: { value: 'verbose' } }));
  r.write(hover(2));
  await r.reply(2);
  assert.ok(r.msgs.some((m) => m.method === '$/logTrace' && /textDocument\/hover/.test(m.params.message)));
  r.write(rpc({ method: '$/setTrace', params: { value: 'off' } }));
  r.write(hover(3));
  await r.reply(3);
  // only request 2 was traced: after "off", request 3 was not
  assert.strictEqual(r.msgs.filter((m) => m.method === '$/logTrace' && /hover/.test(m.params.message)).length, 1);
  r.write(rpc({ id: 4, method: 'shutdown' }));
  r.write(rpc({ method: 'exit' }));
  assert.strictEqual(await r.exited, 0);
});

test('stdout carries only framed JSON-RPC; logs go to stderr and window/logMessage', async (t) => {
  const ws = workspace(t, { 'sync_x.c': null });
  const r = startRaw(t);
  r.write(rpc({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, workspaceFolders: [{ uri: ws.uri(''), name: 'w' }], capabilities: {} } }));
  r.write(rpc({ method: 'initialized', params: {} }));
  r.write(rpc({ id: 2, method: 'shutdown' }));
  r.write(rpc({ method: 'exit' }));
  assert.strictEqual(await r.exited, 0);
  // the raw reader throws on anything that is not a frame; every message is JSON-RPC 2.0
  assert.ok(r.msgs.length >= 3);
  assert.ok(r.msgs.every((m) => m.jsonrpc === '2.0'));
  assert.ok(r.msgs.some((m) => m.method === 'window/logMessage'));
  assert.match(r.stderr(), /unasync\[/);
});

for (const name of ['nvim-0.7.json', 'eglot-1.9.json', 'vscode-1.100-lc9.json']) {
  test(`initialize with the params ${name} really sent`, async (t) => {
    const ws = workspace(t);
    const params = clientParams(name);
    params.processId = process.pid;
    params.rootUri = ws.uri('');
    params.rootPath = ws.dir;
    params.workspaceFolders = [{ uri: ws.uri(''), name: 'ws' }];
    const s = start(t, { onRequest: { 'workspace/configuration': (p) => p.items.map(() => ({})) } });
    const res = await s.conn.sendRequest('initialize', params);
    assert.strictEqual(res.capabilities.positionEncoding, 'utf-16'); // none of them offers utf-8
    assert.strictEqual(!!res.capabilities.diagnosticProvider, name.startsWith('vscode'));
    await s.conn.sendNotification('initialized', {});
    // the start-up check reports the missing twin
    await s.diagsOf(ws.uri('x.c'), (d) => d.length === 1 && /sync_x\.c is missing/.test(d[0].message));
    const registered = s.requests.some((r) => r.method === 'client/registerCapability');
    assert.strictEqual(registered, !name.startsWith('nvim')); // 0.7 cannot watch files for us
    assert.strictEqual(s.requests.some((r) => r.method === 'workspace/configuration'), !name.startsWith('nvim'));
    assert.strictEqual(s.requests.some((r) => r.method === 'window/workDoneProgress/create'), !name.startsWith('eglot'));
    assert.strictEqual(await shutdownExit(s), 0);
  });
}
