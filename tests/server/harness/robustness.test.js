// Malformed input of every kind gets a JSON-RPC error and the server keeps serving; nothing a
// client sends makes it write outside the workspace folders.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { startRaw, rpc, frame, workspace, start, init, shutdownExit, uri } = require('./lib');

const initMsg = (id = 1) => rpc({ id, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });

async function stillServes(r, id) {
  r.write(rpc({ id, method: 'textDocument/hover', params: { textDocument: { uri: 'file:///nowhere/a.c' }, position: { line: 0, character: 0 } } }));
  const m = await r.reply(id);
  assert.strictEqual(m.result, null);
}

test('malformed headers get an error for id null, then the next message is served', async (t) => {
  const r = startRaw(t);
  r.write(initMsg());
  await r.reply(1);
  r.write('Content-Type: application/vscode-jsonrpc\r\n\r\n{"jsonrpc":"2.0"}');
  r.write('Content-Length: twelve\r\n\r\n');
  const errs = await r.until('two header errors', () => {
    const e = r.msgs.filter((m) => m.id === null && m.error);
    return e.length >= 2 && e;
  });
  assert.ok(errs.every((e) => e.error.code === -32600));
  await stillServes(r, 2);
  // header names in any case, bare LF line ends, extra headers
  const body = '{"jsonrpc":"2.0","id":3,"method":"shutdown","params":null,"extra":"ignored"}';
  r.write(`content-length: ${body.length}\nX-Whatever: 1\n\n${body}`);
  assert.strictEqual((await r.reply(3)).result, null);
});

test('invalid JSON, non-objects and batches are errors, not crashes', async (t) => {
  const r = startRaw(t);
  r.write(initMsg());
  await r.reply(1);
  r.write(frame('{"jsonrpc":"2.0","id":2,"method":'));
  r.write(frame('[{"jsonrpc":"2.0","id":3,"method":"shutdown"}]'));
  r.write(frame('"just a string"'));
  r.write(frame('{"jsonrpc":"1.0","id":4,"method":"shutdown"}'));
  r.write(frame('{"jsonrpc":"2.0","id":{"x":1},"method":"shutdown"}'));
  r.write(frame('\u0000\u00ff garbage'));
  const errs = await r.until('six errors', () => {
    const e = r.msgs.filter((m) => m.error);
    return e.length >= 6 && e;
  });
  assert.strictEqual(errs[0].error.code, -32700);
  assert.strictEqual(errs[1].error.code, -32600);
  assert.strictEqual(errs[2].error.code, -32600);
  const four = errs.find((e) => e.id === 4);
  assert.strictEqual(four.error.code, -32600);
  await stillServes(r, 5);
});

test('wrong types and missing params get -32602 with the request id', async (t) => {
  const r = startRaw(t);
  r.write(initMsg());
  await r.reply(1);
  const bad = [
    { id: 2, method: 'textDocument/hover', params: { textDocument: { uri: 17 }, position: { line: 0, character: 0 } } },
    { id: 3, method: 'textDocument/definition', params: { textDocument: { uri: 'file:///a.c' }, position: { line: -4, character: 0 } } },
    { id: 4, method: 'textDocument/codeAction', params: { textDocument: { uri: 'file:///a.c' } } },
    { id: 5, method: 'workspace/executeCommand', params: {} },
    { id: 6, method: 'workspace/executeCommand', params: { command: 'unasync.regenerate', arguments: [42] } },
    { id: 7, method: 'textDocument/hover', params: 'nope' },
    { id: 8, method: 'workspace/executeCommand', params: { command: 'unasync.regenerate' } },
    { id: 9, method: 'textDocument/hover', params: { textDocument: { uri: 'file:///a.c' }, position: { line: 1e300, character: 0.5 } } },
  ];
  for (const m of bad) r.write(rpc(m));
  // notifications with bad params cannot be answered; they must not break anything
  r.write(rpc({ method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///a.c', text: 5 } } }));
  r.write(rpc({ method: 'textDocument/didChange', params: { textDocument: { uri: 'file:///never-opened.c', version: 2 }, contentChanges: [{ text: 'x' }] } }));
  r.write(rpc({ method: 'textDocument/didChange', params: {} }));
  for (const m of bad) {
    const rep = await r.reply(m.id);
    assert.strictEqual(rep.error.code, -32602, `id ${m.id}: ${JSON.stringify(rep)}`);
  }
  await stillServes(r, 10);
});

test('a truncated body at end of input ends the server cleanly', async (t) => {
  const r = startRaw(t);
  r.write(initMsg());
  await r.reply(1);
  r.write('Content-Length: 500\r\n\r\n{"jsonrpc":"2.0","id":2,"method":"shut');
  r.proc.stdin.end();
  assert.strictEqual(await r.exited, 1); // no shutdown came: status 1, and no crash signal
});

test('out-of-range positions are clamped, never a crash', async (t) => {
  const ws = workspace(t);
  const s = start(t);
  await init(s, ws.dir);
  const u = ws.uri('x.c');
  await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: u, languageId: 'c', version: 1, text: 'int a;\n' } });
  await s.conn.sendNotification('textDocument/didChange', { textDocument: { uri: u, version: 2 }, contentChanges: [
    { range: { start: { line: 99, character: 99 }, end: { line: 100, character: 0 } }, text: 'int b;\n' },
    { range: { start: { line: 0, character: 50 }, end: { line: 0, character: 10 } }, text: '' },
  ] });
  const h = await s.conn.sendRequest('textDocument/hover', { textDocument: { uri: u }, position: { line: 1e6, character: 1e6 } });
  assert.strictEqual(h, null);
  assert.strictEqual(await shutdownExit(s), 0);
});

test('nothing a client sends makes the server write outside the workspace folders', async (t) => {
  const inside = workspace(t);
  const outside = workspace(t, { 'sync_x.c': null }); // a project the client did not open
  const s = start(t);
  await init(s, inside.dir);
  const victims = [outside.uri('x.c'), `${inside.uri('')}/../${path.basename(outside.dir)}/x.c`, 'file:///etc/passwd', 'file://remote-host/x.c', 'untitled:x.c'];
  for (const v of victims) {
    await assert.rejects(s.conn.sendRequest('workspace/executeCommand', { command: 'unasync.regenerate', arguments: [v] }),
      (e) => e.code === -32602, v);
  }
  await s.conn.sendRequest('workspace/executeCommand', { command: 'unasync.regenerateAll', arguments: [] });
  assert.ok(!fs.existsSync(outside.file('sync_x.c')), 'a file was written outside the workspace');
  assert.ok(fs.existsSync(inside.file('sync_x.c')));
  // opening a document of the outside project does not make it writable either
  await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: outside.uri('x.c'), languageId: 'c', version: 1, text: fs.readFileSync(outside.file('x.c'), 'utf8') } });
  await assert.rejects(s.conn.sendRequest('workspace/executeCommand', { command: 'unasync.regenerate', arguments: [outside.uri('x.c')] }));
  await s.conn.sendRequest('workspace/executeCommand', { command: 'unasync.regenerateAll', arguments: [] });
  assert.ok(!fs.existsSync(outside.file('sync_x.c')));
  assert.strictEqual(await shutdownExit(s), 0);
});

test('an invalid command argument is InvalidParams whichever command reports it', async (t) => {
  const ws = workspace(t);
  const s = start(t);
  await init(s, ws.dir);
  const bad = [
    { command: 'unasync.lintFix', arguments: ['not a fix name'] }, // EINVAL from the lint fix
    { command: 'unasync.lintFix', arguments: [`${ws.uri('x.c')}#1:1:UA001:99`] }, // no such fix
    { command: 'unasync.regenerate', arguments: [] }, // no argument
    { command: 'unasync.regenerate', arguments: [ws.uri('nothere.c')] }, // ENOTFOUND
    { command: 'unasync.nonsense', arguments: [] },
  ];
  for (const b of bad)
    await assert.rejects(s.conn.sendRequest('workspace/executeCommand', b), (e) => e.code === -32602, JSON.stringify(b));
  assert.strictEqual(await shutdownExit(s), 0);
});
