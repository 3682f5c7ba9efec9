// Unit tests of the status bar text and the `unasync/status` notification's validation.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { COMMANDS, parseStatus, statusView } from '../src/status';

test('status_with_nothing_out_of_date_reads_in_sync', () => {
  const v = statusView({ kind: 'running', status: { twins: 4, outOfDate: 0 } });
  assert.equal(v.text, 'unasync: in sync');
  assert.equal(v.severity, 'ok');
  assert.equal(v.command, COMMANDS.regenerateAll);
  assert.match(v.tooltip, /All 4 twins are in sync/);
});

test('status_counts_out_of_date_twins', () => {
  const v = statusView({ kind: 'running', status: { twins: 4, outOfDate: 2 } });
  assert.equal(v.text, 'unasync: 2 out of date');
  assert.equal(v.severity, 'warning');
  assert.equal(v.command, COMMANDS.regenerateAll, 'click regenerates all');
  assert.match(v.tooltip, /2 of 4 twins out of date/);
  assert.match(statusView({ kind: 'running', status: { twins: 1, outOfDate: 1 } }).tooltip, /1 of 1 twin out/);
});

test('status_without_twins_is_hidden', () => {
  const v = statusView({ kind: 'running', status: { twins: 0, outOfDate: 0 } });
  assert.equal(v.text, 'unasync: in sync');
  assert.match(v.tooltip, /No generated twins/);
  assert.equal(v.visible, false, 'a C folder without an unasync project gets no status item');
  assert.equal(statusView({ kind: 'running', status: { twins: 1, outOfDate: 0 } }).visible, true);
  assert.equal(statusView({ kind: 'running', status: { twins: 2, outOfDate: 2 } }).visible, true);
});

test('status_before_the_first_report_says_checking', () => {
  assert.equal(statusView({ kind: 'starting' }).text, 'unasync: starting');
  assert.equal(statusView({ kind: 'running' }).text, 'unasync: checking');
});

test('status_of_a_missing_binary_is_an_error_that_restarts', () => {
  const v = statusView({ kind: 'missing', detail: 'not on PATH' });
  assert.equal(v.text, 'unasync: not found');
  assert.equal(v.severity, 'error');
  assert.equal(v.tooltip, 'not on PATH');
  assert.equal(v.command, COMMANDS.restart);
  assert.equal(statusView({ kind: 'failed', detail: 'x' }).severity, 'error');
  assert.equal(statusView({ kind: 'stopped' }).text, 'unasync: stopped');
  for (const st of [{ kind: 'starting' }, { kind: 'missing', detail: '' }, { kind: 'failed', detail: '' }, { kind: 'stopped' }] as const) {
    assert.equal(statusView(st).visible, true, st.kind);
  }
});

test('status_params_are_accepted_when_well_formed', () => {
  assert.deepEqual(parseStatus({ twins: 3, outOfDate: 1 }), { twins: 3, outOfDate: 1 });
  assert.deepEqual(parseStatus({ twins: 0, outOfDate: 0, extra: true }), { twins: 0, outOfDate: 0 });
});

test('status_params_are_rejected_when_malformed', () => {
  for (const bad of [null, undefined, 3, 'x', {}, { twins: 1 }, { twins: -1, outOfDate: 0 }, { twins: 1.5, outOfDate: 0 },
    { twins: '2', outOfDate: 0 }, { twins: 1, outOfDate: 2 }, { twins: Number.NaN, outOfDate: 0 }]) {
    assert.equal(parseStatus(bad), undefined, JSON.stringify(bad));
  }
});
