// The editor and CI cannot disagree: `unasync --check --format=json` (the real CLI, $UNASYNC_CLI)
// and the server, on one project with a twin in every drift state, report the same drift
// findings: each --check finding is published on its file, at its line, with its code and its
// message, and the server counts the same hunks.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const { workspace, start, init, shutdownExit, generateTwins, SOURCE, uri } = require('./lib');

const CLI = process.env.UNASYNC_CLI;
const HEADER = ['#ifndef G_H', '#define G_H', '#include <unasync/async.h>', '', 'async int g(int id);', 'async int g2(int id);', '', '#endif', ''].join('\n');
const named = (name) => SOURCE.replace('fetch', name);
const DRIFT = /^UA(2\d\d|400)$/;

/** --check's drift findings, as [file, line, code, message] rows, sorted. */
function checkFindings(dir) {
  let out;
  try {
    out = execFileSync(CLI, ['--check', '--format=json', '--no-lint'], { cwd: dir, encoding: 'utf8' });
  } catch (e) {
    if (e.status !== 1) throw new Error(`unasync --check exited ${e.status}: ${e.stderr}`);
    out = e.stdout; // 1: findings
  }
  return JSON.parse(out).findings.filter((f) => DRIFT.test(f.code))
    .map((f) => [f.file, f.line, f.code, f.message]).sort();
}

test('every --check drift finding is published with the same line, code and message', async (t) => {
  assert.ok(CLI, 'UNASYNC_CLI is not set: run this through meson test');
  const ws = workspace(t, {
    'unasync.json': '{ "sources": ["*.c", "*.h"], "lint": { "UA000": "off", "UA005": "off" } }\n',
    'x.c': null,
    'stale.c': named('stale'), 'edited.c': named('edited'), 'missing.c': named('missing'),
    'gone.c': named('gone'), 'unmanaged.c': named('unmanaged'), 'g.h': HEADER, 'hdr.c': named('hdr'),
  });
  await generateTwins(t, ws.dir);
  const edit = (name, from, to) => fs.writeFileSync(ws.file(name), fs.readFileSync(ws.file(name), 'utf8').replace(from, to));
  edit('stale.c', 'return id;', 'return id + 1;'); // stale: the source changed
  edit('sync_edited.c', 'return id;', 'return id * 2;'); // hand-edited twin
  edit('sync_edited.c', 'int edited', 'long edited'); // ... in two hunks
  fs.unlinkSync(ws.file('sync_missing.c')); // missing
  fs.unlinkSync(ws.file('gone.c')); // orphaned: the twin's source is gone
  fs.writeFileSync(ws.file('sync_unmanaged.c'), 'int unmanaged_by_hand(void);\n'); // not generated
  edit('sync_g.h', 'int g2', 'long g2'); // a hand-edited header
  edit('sync_hdr.c', 'DO NOT EDIT', 'DO NOT TOUCH'); // a change to the header line only
  const expected = checkFindings(ws.dir);
  const codes = expected.map((r) => r[2]).sort();
  assert.deepStrictEqual(codes, ['UA201', 'UA202', 'UA202', 'UA203', 'UA203', 'UA204', 'UA205'], JSON.stringify(expected));

  const s = start(t);
  await init(s, ws.dir);
  const want = new Set(expected.map((r) => r[0]));
  const published = await s.until('every file with a --check finding published', () => {
    const all = [...want].map((f) => [f, s.diags.get(uri(ws.file(f)))]);
    return all.every(([, d]) => d && d.some((x) => DRIFT.test(x.code))) && all;
  });
  for (const [file, line, code, message] of expected) {
    const d = published.find(([f]) => f === file)[1];
    assert.ok(d.some((x) => x.range.start.line === line - 1 && x.code === code && x.message === message),
      `${file}:${line} ${code} "${message}" not published; the server sent ${JSON.stringify(d.map((x) => [x.range.start.line + 1, x.code, x.message]))}`);
  }
  // the hunk count: one twin diagnostic per hunk --check counts (n in "(n hunks ...)"; none,
  // and one diagnostic on line 1, when "only its header line differs")
  for (const [file, , code, message] of expected.filter((r) => r[2] === 'UA202' || r[2] === 'UA203')) {
    const counted = /\((\d+) hunks?/.exec(message);
    assert.ok(counted || message.includes('(only its header line differs'), `${file}: ${message}`);
    const n = counted ? Number(counted[1]) : 0;
    const d = published.find(([f]) => f === file)[1].filter((x) => x.code === code);
    assert.strictEqual(d.length, Math.max(n, 1), `${file}: ${n} hunks, ${d.length} diagnostics`);
  }
  // no wording of the server's own about drift: every drift message is one --check printed,
  // and the source of a hand-edited twin is never told it is "out of date"
  const messages = new Set(expected.map((r) => r[3]));
  for (const [file, d] of [...s.diags.entries()].map(([u, d]) => [u, d])) {
    for (const x of d.filter((y) => DRIFT.test(y.code)))
      assert.ok(messages.has(x.message), `${file}: "${x.message}" is not a --check message`);
  }
  const edited = s.diags.get(uri(ws.file('g.h'))) || [];
  assert.ok(edited.length > 0 && edited.every((x) => !/out of date/.test(x.message)), JSON.stringify(edited));
  // the orphan deleted (as --write --prune would): its diagnostic goes, as --check's does
  fs.unlinkSync(ws.file('sync_gone.c'));
  await s.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uri(ws.file('sync_gone.c')), type: 3 }] });
  await s.diagsOf(uri(ws.file('sync_gone.c')), (d) => d.length === 0);
  assert.ok(!checkFindings(ws.dir).some((r) => r[2] === 'UA205'));
  assert.strictEqual(await shutdownExit(s), 0);
});
