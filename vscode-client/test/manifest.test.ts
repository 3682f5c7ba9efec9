// Unit tests that package.json (what VS Code reads) and the code agree: commands, settings, activation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { DEFAULT_SETTINGS, SEVERITIES, TRACES } from '../src/settings';
import { COMMANDS, SERVER_COMMANDS } from '../src/status';

interface Manifest {
  engines: { vscode: string };
  activationEvents: string[];
  main: string;
  devDependencies: Record<string, string>;
  contributes: {
    commands: { command: string; title: string; category: string }[];
    configuration: { properties: Record<string, { default: unknown; enum?: string[]; scope?: string }> };
    jsonValidation: { fileMatch: string; url: string }[];
  };
}

const root = path.join(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;

test('every_command_in_the_code_is_contributed_and_back', () => {
  const contributed = manifest.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(contributed, Object.values(COMMANDS).sort());
  for (const c of manifest.contributes.commands) {
    assert.equal(c.category, 'unasync', c.command);
  }
});

test('extension_commands_never_clash_with_server_commands', () => {
  // vscode-languageclient registers the server's executeCommand ids as VS Code commands.
  for (const id of Object.values(SERVER_COMMANDS)) {
    assert.ok(!Object.values(COMMANDS).includes(id as never), id);
  }
});

test('settings_defaults_and_enums_match_the_code', () => {
  const props = manifest.contributes.configuration.properties;
  assert.deepEqual(Object.keys(props).sort(), ['unasync.drift.severity', 'unasync.lint.enable', 'unasync.path', 'unasync.trace.server']);
  assert.equal(props['unasync.lint.enable']?.default, DEFAULT_SETTINGS.lint.enable);
  assert.equal(props['unasync.drift.severity']?.default, DEFAULT_SETTINGS.drift.severity);
  assert.deepEqual(props['unasync.drift.severity']?.enum, [...SEVERITIES]);
  assert.equal(props['unasync.trace.server']?.default, DEFAULT_SETTINGS.trace.server);
  assert.deepEqual(props['unasync.trace.server']?.enum, [...TRACES]);
  assert.equal(props['unasync.path']?.default, '');
  assert.equal(props['unasync.path']?.scope, 'machine-overridable');
});

test('activation_covers_unasync_projects_and_c_files', () => {
  assert.ok(manifest.activationEvents.includes('workspaceContains:**/unasync.json'));
  assert.ok(manifest.activationEvents.includes('onLanguage:c'));
  assert.equal(manifest.main, './dist/extension.js');
});

test('schema_is_contributed_where_package_sh_copies_it', () => {
  assert.deepEqual(manifest.contributes.jsonValidation, [{ fileMatch: 'unasync.json', url: './schemas/unasync.schema.json' }]);
  const script = fs.readFileSync(path.join(root, 'scripts', 'package.sh'), 'utf8');
  assert.match(script, /cp "\$schema" schemas\/unasync\.schema\.json/);
});

test('engine_range_admits_vscode_1_100_and_the_types_it_builds_against', () => {
  const m = /^\^1\.(\d+)\.\d+$/.exec(manifest.engines.vscode);
  assert.ok(m, manifest.engines.vscode);
  const minor = Number(m[1]);
  assert.ok(minor <= 100, 'VS Code 1.100 (code-server 4.100.3) must satisfy engines.vscode');
  const types = /(\d+)\.(\d+)/.exec(manifest.devDependencies['@types/vscode'] ?? '');
  assert.ok(types && Number(types[2]) <= minor, '@types/vscode may not be newer than engines.vscode (vsce refuses)');
});
