// Shared helpers of the protocol tests: start the real server binary over stdio, make
// workspace fixtures, wait for notifications. The server command comes from $SERVER.
'use strict';
const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
// the protocol package's own re-export of vscode-jsonrpc (a second copy breaks "byName")
const P = require('vscode-languageserver-protocol/node');

const SERVER = process.env.SERVER;
if (!SERVER) throw new Error('SERVER (path of the server binary) is not set');

const CLIENTS = path.join(__dirname, '..', '..', 'protocol', 'clients');
const clientParams = (name) => JSON.parse(fs.readFileSync(path.join(CLIENTS, name), 'utf8'));

const SOURCE = [
  '#include <unasync/async.h>',
  '',
  'async int fetch(int id) {',
  '    await async_sleep_ms(10);',
  '    return id;',
  '}',
  '',
].join('\n');

const uri = (p) => pathToFileURL(p).href;

// Sanitizer builds print UBSan reports and keep going: any such report fails the test.
const SANITIZER = /runtime error:|AddressSanitizer|LeakSanitizer/;
const checkSanitizer = (stderr) => {
  if (SANITIZER.test(stderr)) throw new Error(`sanitizer report from the server:\n${stderr}`);
};

/** A temporary project: unasync.json + x.c (+ more files). Removed by t.after. */
function workspace(t, files = {}) {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ua-ws-')));
  // these fixtures test drift: the lint's notices (UA000 limited, UA005 for the unrenamed
  // fetch) are switched off so that they see drift diagnostics only; lint.test.js covers the lint
  const all = { 'unasync.json': '{ "sources": ["*.c"], "lint": { "UA000": "off", "UA005": "off" } }\n', 'x.c': SOURCE, ...files };
  for (const [name, text] of Object.entries(all)) {
    if (text === null) continue;
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, file: (n) => path.join(dir, n), uri: (n) => uri(path.join(dir, n)) };
}

/** Starts the server; every notification and server request is recorded. */
function start(t, { env = {}, onRequest = {} } = {}) {
  const proc = cp.spawn(SERVER, [], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res(sig ? sig : code)));
  const conn = P.createMessageConnection(new P.StreamMessageReader(proc.stdout), new P.StreamMessageWriter(proc.stdin));
  const diags = new Map();
  const notes = [];
  const requests = [];
  const waiters = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  conn.onNotification((method, params) => {
    notes.push({ method, params });
    if (method === 'textDocument/publishDiagnostics') diags.set(params.uri, params.diagnostics);
    wake();
  });
  // vscode-jsonrpc routes $/progress by token; tokens nobody registered land here
  conn.onUnhandledProgress((params) => { notes.push({ method: '$/progress', params }); wake(); });
  conn.onRequest((method, params) => {
    requests.push({ method, params });
    wake();
    if (onRequest[method]) return onRequest[method](params);
    if (method === 'workspace/applyEdit') return { applied: true };
    return null;
  });
  conn.onError(() => {});
  conn.listen();
  t.after(() => { conn.dispose(); if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); checkSanitizer(stderr); });
  /** Resolves when pred() is true; rejects after ms (a test timeout, never a timed assertion). */
  const until = (what, pred, ms = 10000) => new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`timeout waiting for ${what}\nstderr:\n${stderr}`)), ms);
    const check = () => { const v = pred(); if (v) { clearTimeout(timer); res(v); } else waiters.push(check); };
    check();
  });
  const diagsOf = (u, pred) => until(`diagnostics of ${u}`, () => diags.has(u) && pred(diags.get(u)) && diags.get(u));
  const countPublishes = (u) => notes.filter((n) => n.method === 'textDocument/publishDiagnostics' && n.params.uri === u).length;
  return { proc, conn, diags, notes, requests, until, diagsOf, countPublishes, exited, stderr: () => stderr };
}

/** initialize + initialized with the given client capabilities and folders. */
const LITERALS = { codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'source'] } } } };
async function init(s, dir, { caps = { general: { positionEncodings: ['utf-8', 'utf-16'] } }, options, folders } = {}) {
  caps = { ...caps, textDocument: { ...LITERALS, ...(caps.textDocument || {}) } };
  const res = await s.conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: dir ? uri(dir) : null,
    workspaceFolders: folders !== undefined ? folders : dir ? [{ uri: uri(dir), name: 'ws' }] : null,
    capabilities: caps,
    initializationOptions: options,
  });
  await s.conn.sendNotification('initialized', {});
  return res;
}

async function shutdownExit(s) {
  await s.conn.sendRequest('shutdown');
  await s.conn.sendNotification('exit');
  return s.exited;
}

/** Generates every twin of a workspace through the server itself (unasync.regenerateAll). */
async function generateTwins(t, dir) {
  const s = start(t);
  await init(s, dir);
  await s.conn.sendRequest('workspace/executeCommand', { command: 'unasync.regenerateAll', arguments: [] });
  const code = await shutdownExit(s);
  if (code !== 0) throw new Error(`twin generation exited ${code}: ${s.stderr()}`);
}

/** Frames raw bytes the way a client would, for malformed-input tests. */
const frame = (body) => {
  const b = Buffer.from(body);
  return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`), b]);
};

/** A raw connection: write bytes, read parsed messages. For input no library would send. */
function startRaw(t, env = {}) {
  const proc = cp.spawn(SERVER, [], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let buf = Buffer.alloc(0);
  const msgs = [];
  const waiters = [];
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const sep = buf.indexOf('\r\n\r\n');
      if (sep < 0) break;
      const m = /Content-Length: (\d+)/i.exec(buf.subarray(0, sep).toString());
      const len = Number(m[1]);
      if (buf.length < sep + 4 + len) break;
      msgs.push(JSON.parse(buf.subarray(sep + 4, sep + 4 + len).toString()));
      buf = buf.subarray(sep + 4 + len);
    }
    waiters.splice(0).forEach((w) => w());
  });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res(sig ? sig : code)));
  t.after(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); checkSanitizer(stderr); });
  const until = (what, pred, ms = 10000) => new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`timeout waiting for ${what}\nstderr:\n${stderr}`)), ms);
    const check = () => { const v = pred(); if (v) { clearTimeout(timer); res(v); } else waiters.push(check); };
    check();
  });
  const reply = (id) => until(`reply to ${JSON.stringify(id)}`, () => msgs.find((m) => m.id === id && !m.method));
  return { proc, msgs, until, reply, exited, write: (b) => proc.stdin.write(b), stderr: () => stderr };
}

const rpc = (obj) => frame(JSON.stringify({ jsonrpc: '2.0', ...obj }));

module.exports = { P, SOURCE, uri, workspace, start, init, shutdownExit, generateTwins, frame, rpc, startRaw, clientParams };
