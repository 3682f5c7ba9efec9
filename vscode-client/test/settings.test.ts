// Unit tests of the settings translation and of the workspace/configuration answers.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { answerSection, DEFAULT_SETTINGS, openPathSettingCommand, toServerSettings } from '../src/settings';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

test('settings_translate_to_the_server_shape', () => {
  const s = toServerSettings(from({ 'lint.enable': false, 'drift.severity': 'error', 'trace.server': 'verbose', path: '/x/unasync' }));
  assert.deepEqual(s, { lint: { enable: false }, drift: { severity: 'error' }, trace: { server: 'verbose' } });
  assert.ok(!('path' in s), 'unasync.path is client-only');
});

test('settings_default_when_unset', () => {
  assert.deepEqual(toServerSettings(from({})), DEFAULT_SETTINGS);
  assert.deepEqual(DEFAULT_SETTINGS, { lint: { enable: true }, drift: { severity: 'warning' }, trace: { server: 'off' } });
});

test('settings_with_wrong_types_or_values_default', () => {
  const s = toServerSettings(from({ 'lint.enable': 'yes', 'drift.severity': 'fatal', 'trace.server': 2 }));
  assert.deepEqual(s, DEFAULT_SETTINGS);
});

test('configuration_answers_the_whole_section_and_its_parts', () => {
  const s = toServerSettings(from({ 'drift.severity': 'hint' }));
  assert.deepEqual(answerSection('unasync', s), s);
  assert.deepEqual(answerSection('unasync.drift', s), { severity: 'hint' });
  assert.equal(answerSection('unasync.drift.severity', s), 'hint');
  assert.equal(answerSection('unasync.lint.enable', s), true);
});

test('configuration_leaves_other_sections_alone', () => {
  assert.equal(answerSection('editor', DEFAULT_SETTINGS), undefined);
  assert.equal(answerSection('unasyncx', DEFAULT_SETTINGS), undefined);
  assert.equal(answerSection(undefined, DEFAULT_SETTINGS), undefined);
});

test('configuration_answers_null_for_unknown_keys_in_our_section', () => {
  assert.equal(answerSection('unasync.path', DEFAULT_SETTINGS), null, 'client-only, never sent');
  assert.equal(answerSection('unasync.lint.enable.deeper', DEFAULT_SETTINGS), null);
  assert.equal(answerSection('unasync.toString', DEFAULT_SETTINGS), null, 'no prototype keys');
});

test('open_setting_uses_the_remote_tab_in_remote_windows', () => {
  assert.deepEqual(openPathSettingCommand(undefined), { command: 'workbench.action.openSettings', arg: { query: '@id:unasync.path' } });
  assert.equal(openPathSettingCommand('').command, 'workbench.action.openSettings');
  assert.equal(openPathSettingCommand('ssh-remote').command, 'workbench.action.openRemoteSettings');
});
