// Unit tests of locating the server binary from unasync.path or PATH, on real temporary files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { resolveServerPath } from '../src/serverPath';

function sandbox(t: { after: (fn: () => void) => void }): { dir: string; exe: (rel: string, mode?: number) => string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unasync-path-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    exe: (rel, mode = 0o755) => {
      const p = path.join(dir, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, '#!/bin/sh\n');
      fs.chmodSync(p, mode);
      return p;
    },
  };
}

test('path_lookup_takes_the_first_executable_on_PATH', async (t) => {
  const s = sandbox(t);
  s.exe('a/unasync', 0o644); // not executable: skipped
  const want = s.exe('b/unasync');
  s.exe('c/unasync');
  const envPath = ['a', 'b', 'c'].map((d) => path.join(s.dir, d)).join(path.delimiter);
  assert.deepEqual(await resolveServerPath({ setting: '', envPath, workspaceFolder: undefined }), { ok: true, path: want });
});

test('path_lookup_reports_a_missing_binary_with_the_setting_name', async (t) => {
  const s = sandbox(t);
  const r = await resolveServerPath({ setting: '', envPath: s.dir, workspaceFolder: undefined });
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.reason === 'not-found' && /unasync\.path/.test(r.message));
  assert.equal((await resolveServerPath({ setting: '  ', envPath: undefined, workspaceFolder: undefined })).ok, false);
});

test('setting_overrides_PATH', async (t) => {
  const s = sandbox(t);
  s.exe('onpath/unasync');
  const chosen = s.exe('custom/unasync-dev');
  const r = await resolveServerPath({ setting: chosen, envPath: path.join(s.dir, 'onpath'), workspaceFolder: undefined });
  assert.deepEqual(r, { ok: true, path: chosen });
});

test('setting_relative_or_with_workspace_folder_resolves_in_the_folder', async (t) => {
  const s = sandbox(t);
  const exe = s.exe('build/cli/unasync');
  assert.deepEqual(await resolveServerPath({ setting: 'build/cli/unasync', envPath: '', workspaceFolder: s.dir }), { ok: true, path: exe });
  assert.deepEqual(await resolveServerPath({ setting: '${workspaceFolder}/build/cli/unasync', envPath: '', workspaceFolder: s.dir }), { ok: true, path: exe });
  const noFolder = await resolveServerPath({ setting: '${workspaceFolder}/x', envPath: '', workspaceFolder: undefined });
  assert.ok(!noFolder.ok && /no folder is open/.test(noFolder.message));
});

test('setting_naming_a_non_executable_is_reported', async (t) => {
  const s = sandbox(t);
  const plain = s.exe('unasync', 0o644);
  const r = await resolveServerPath({ setting: plain, envPath: '', workspaceFolder: undefined });
  assert.ok(!r.ok && r.reason === 'not-executable' && r.message.includes(plain));
  const dir = await resolveServerPath({ setting: s.dir, envPath: '', workspaceFolder: undefined });
  assert.ok(!dir.ok, 'a folder is not an executable');
});

test('setting_expands_the_home_folder', async () => {
  const seen: string[] = [];
  await resolveServerPath({ setting: '~/bin/unasync', envPath: '', workspaceFolder: undefined, isExecutable: async (f) => (seen.push(f), false) });
  assert.deepEqual(seen, [path.join(os.homedir(), 'bin/unasync')]);
});
