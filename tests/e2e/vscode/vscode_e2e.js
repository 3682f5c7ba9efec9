// Drives real VS Code (code-server in headless Chromium, through playwright-core) over a workspace
// served by `unasync --stdio`: edit + save an async source -> drift in Problems -> quick fix
// regenerates the twin on disk -> source.fixAll on save -> status bar text at each step.
//
// Run by run_vscode_e2e.sh, which sets: CS_URL, WS (a scratch copy of the workspace), E2E_SOURCE
// (the async source, relative to WS), E2E_TWIN (its twin), SHOTS (screenshot folder), CHROME_PROFILE.
// Exit 0 = pass, 1 = a step failed (the message names it), 3 = global timeout.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const url = process.env.CS_URL;
const ws = process.env.WS;
const sourceRel = process.env.E2E_SOURCE;
const twinRel = process.env.E2E_TWIN;
const shots = process.env.SHOTS;
const profile = process.env.CHROME_PROFILE;
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const STEP_TIMEOUT = 60000;
const MARK1 = '// edited by the e2e test (quick fix)';
const MARK2 = '// edited by the e2e test (status bar click)';
const MARK3 = '// edited by the e2e test (fixAll on save)';
const MARK4 = '// edited by the e2e test (Regenerate this file)';

let context;
let page;
let step = 'start';
const timings = {};

async function shot(name) {
  await page.screenshot({ path: path.join(shots, name) });
}

/** Polls `fn` every 100 ms until it returns a truthy value; throws `what` on timeout. */
async function until(what, fn, timeout = STEP_TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}`);
}

/** Like until(), but returns false on timeout instead of throwing. */
async function poll(fn, timeout) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await fn()) return true;
    await page.waitForTimeout(100);
  }
  return false;
}

const readDisk = (rel) => fs.readFileSync(path.join(ws, rel), 'utf8');

/** Text of our status bar item ('' while it is not shown). */
async function statusText() {
  const item = page.locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: /unasync: / }).first();
  if ((await item.count()) === 0) return '';
  return (await item.innerText()).replace(/\s+/g, ' ').trim();
}

async function expectStatus(want) {
  step = `status bar shows "${want}"`;
  await until(`status bar "${want}" (last: "${timings.lastStatus}")`, async () => {
    timings.lastStatus = await statusText();
    return timings.lastStatus === want;
  });
  log(`status bar: ${want}`);
}

/** Opens `rel` by clicking through the Explorer tree (more deterministic than Ctrl+P headless). */
async function openFromExplorer(rel) {
  const parts = rel.split('/');
  for (let i = 0; i < parts.length; i++) {
    // aria-level: in a single-folder workspace, top-level entries are at level 1.
    const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-level="${i + 1}"]`, {
      has: page.locator('.label-name', { hasText: new RegExp(`^${parts[i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
    }).first();
    await row.waitFor({ timeout: STEP_TIMEOUT });
    const expanded = await row.getAttribute('aria-expanded');
    if (i < parts.length - 1 && expanded === 'true') continue;
    await row.click();
  }
  await page.locator('.tabs-container .tab.active', { hasText: path.basename(rel) }).waitFor({ timeout: STEP_TIMEOUT });
}

/** Focuses the editor of `rel`, goes to its end and types `text` on a new last line. */
async function appendLine(rel, text) {
  await page.locator('.tabs-container .tab', { hasText: path.basename(rel) }).first().click();
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+End');
  const before = await page.evaluate(() => document.activeElement && document.activeElement.tagName);
  if (before !== 'TEXTAREA') throw new Error(`editor did not take focus (active element ${before})`);
  // The file ends with a newline, so Control+End is on an empty last line.
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

async function saveAndWaitForDisk(rel, needle) {
  await page.keyboard.press('Control+S');
  await until(`${rel} saved to disk with "${needle}"`, () => readDisk(rel).includes(needle));
}

/** Runs a command by its title through the command palette (F1). */
async function runCommand(title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: STEP_TIMEOUT });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: title });
  await row.waitFor({ timeout: STEP_TIMEOUT });
  await page.keyboard.press('Enter');
}

/** Shows the Problems panel (Ctrl+Shift+M toggles it, so only when it is hidden). */
async function showProblems() {
  if (!(await page.locator('.markers-panel').first().isVisible().catch(() => false))) {
    await page.keyboard.press('Control+Shift+M');
  }
  await page.locator('.markers-panel').first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
}

/** Lines of the extension's output channel log that code-server writes under the user-data dir. */
function outputLines(re) {
  const found = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/unasync\.log$/.test(e.name)) found.push(...fs.readFileSync(p, 'utf8').split('\n').filter((l) => re.test(l)));
    }
  };
  walk(path.join(process.env.USER_DATA_DIR, 'logs'));
  return found;
}

/** How many textDocument/codeAction requests with only: ["source.fixAll"] the client has traced. */
function fixAllRequests() {
  const entries = outputLines(/./).join('\n').split(/^\[Trace - /m);
  return entries.filter((e) => /^[^\]]*\] Sending request 'textDocument\/codeAction/.test(e) &&
    /"only":\s*\[[^\]]*"source\.fixAll"/.test(e)).length;
}

function driftRow() {
  return page.locator('.markers-panel .monaco-list-row', { hasText: /out of date/ }).first();
}

async function main() {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => log('pageerror:', e.message));

  step = 'open the workspace';
  await page.goto(`${url}/?folder=${encodeURIComponent(ws)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: STEP_TIMEOUT });
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: STEP_TIMEOUT });
  log('workbench loaded');

  step = 'open the async source';
  await openFromExplorer(sourceRel);
  log(`opened ${sourceRel}`);
  await expectStatus('unasync: in sync');
  timings.firstStatus = (Date.now() - t0) / 1000;
  await shot('vscode-1-in-sync.png');

  step = 'Open generated twin / Open async source commands';
  await runCommand('unasync: Open generated twin');
  await page.locator('.tabs-container .tab.active', { hasText: path.basename(twinRel) }).waitFor({ timeout: STEP_TIMEOUT });
  await runCommand('unasync: Open async source');
  await page.locator('.tabs-container .tab.active', { hasText: new RegExp(`^${path.basename(sourceRel).replace('.', '\\.')}`) }).waitFor({ timeout: STEP_TIMEOUT });
  log('navigated source -> twin -> source with the commands');

  step = 'edit and save the async source';
  const twinBefore = readDisk(twinRel);
  await appendLine(sourceRel, MARK1);
  await saveAndWaitForDisk(sourceRel, MARK1);
  const saved = Date.now();
  log('source saved');

  step = 'drift diagnostic in Problems';
  await showProblems();
  await driftRow().waitFor({ timeout: STEP_TIMEOUT });
  timings.saveToProblems = (Date.now() - saved) / 1000;
  log('Problems:', (await driftRow().innerText()).replace(/\s+/g, ' '));
  await expectStatus('unasync: 1 out of date');
  if (readDisk(twinRel) !== twinBefore) throw new Error('the twin changed on disk before the quick fix');
  await shot('vscode-2-drift-in-problems.png');

  step = 'quick fix "Regenerate ..." from the Problems panel';
  await driftRow().dblclick();
  // The double click moves focus to the editor at the diagnostic; on a slow machine the first
  // Control+. can arrive before that, so ask again (at most three times) until the menu shows.
  const fixes = page.locator('.action-widget .monaco-list-row', { hasText: /^Regenerate / });
  for (let attempt = 1; ; attempt++) {
    await page.waitForTimeout(500);
    await page.keyboard.press('Control+.');
    if (await poll(() => fixes.first().isVisible(), attempt === 3 ? STEP_TIMEOUT : 10000)) break;
    if (attempt === 3) throw new Error('Control+. on the drift diagnostic showed no "Regenerate" quick fix');
    log(`Control+. #${attempt} showed no quick fix menu; asking again`);
    await page.keyboard.press('Escape');
    await driftRow().dblclick();
  }
  await shot('vscode-3-quick-fix.png');
  // Mouse clicks in the action widget are swallowed by .context-view-pointerBlock: use keys.
  for (let i = 0; i < 15; i++) {
    const label = await page.locator('.action-widget .monaco-list-row.focused').first().getAttribute('aria-label');
    if (label && label.startsWith('Regenerate ')) break;
    await page.keyboard.press('ArrowDown');
  }
  const chosen = await page.locator('.action-widget .monaco-list-row.focused').first().getAttribute('aria-label');
  if (!chosen || !chosen.startsWith('Regenerate ')) throw new Error(`no "Regenerate" action to select (focused: ${chosen})`);
  log(`choosing quick fix: ${chosen}`);
  await page.keyboard.press('Enter');
  await until('the twin regenerated on disk', () => readDisk(twinRel).includes(MARK1));
  await showProblems();
  await driftRow().waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
  await expectStatus('unasync: in sync');
  log('twin regenerated on disk; diagnostic gone');
  await shot('vscode-4-regenerated.png');

  step = 'status bar click runs Regenerate all twins';
  await appendLine(sourceRel, MARK2);
  await saveAndWaitForDisk(sourceRel, MARK2);
  await expectStatus('unasync: 1 out of date');
  await page.locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: /unasync: / }).first().click();
  await until('the twin regenerated by the status bar click', () => readDisk(twinRel).includes(MARK2));
  await expectStatus('unasync: in sync');
  log('status bar click regenerated all twins');

  step = "command Regenerate this file's twin";
  await appendLine(sourceRel, MARK4);
  await saveAndWaitForDisk(sourceRel, MARK4);
  await expectStatus('unasync: 1 out of date');
  await runCommand("unasync: Regenerate this file's twin");
  await until("the twin regenerated by Regenerate this file's twin", () => readDisk(twinRel).includes(MARK4));
  await expectStatus('unasync: in sync');
  log("Regenerate this file's twin regenerated the twin");

  step = 'command Restart server';
  const starts = outputLines(/^Starting .* --stdio$/).length;
  await runCommand('unasync: Restart server');
  await until('a second "Starting ... --stdio" in the unasync output', () => outputLines(/^Starting .* --stdio$/).length > starts);
  await expectStatus('unasync: in sync');
  step = 'command Show output';
  await runCommand('unasync: Show output');
  await until('the Output panel showing the unasync channel', () => page.evaluate(() =>
    [...document.querySelectorAll('.panel select')].some((s) => s.options[s.selectedIndex] && s.options[s.selectedIndex].text === 'unasync')));
  log('server restarted; Show output shows the unasync channel');

  step = 'source.fixAll on save';
  await showProblems();
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'),
    JSON.stringify({ 'editor.codeActionsOnSave': { 'source.fixAll': 'explicit' } }, null, 2));
  // The Explorer shows .vscode once VS Code's watcher has seen it; settings load on that event.
  await page.locator('.explorer-folders-view .monaco-list-row', { has: page.locator('.label-name', { hasText: /^\.vscode$/ }) })
    .first().waitFor({ timeout: STEP_TIMEOUT });
  await page.waitForTimeout(1000);
  // VS Code applies a workspace settings file some time after its watcher reports it, and a slow
  // machine can save before that. The server's trace tells the two cases apart: a save without a
  // source.fixAll request is saved again; a request that did not regenerate the twin is a failure.
  for (let attempt = 1; ; attempt++) {
    const asked = fixAllRequests();
    const mark = `${MARK3} #${attempt}`;
    await appendLine(sourceRel, mark);
    await saveAndWaitForDisk(sourceRel, mark);
    if (await poll(() => readDisk(twinRel).includes(mark), 15000)) break;
    if (fixAllRequests() > asked) {
      throw new Error('VS Code asked the server for source.fixAll on save, but the twin was not regenerated');
    }
    if (attempt === 4) {
      throw new Error(`VS Code sent no source.fixAll request on ${attempt} saves: editor.codeActionsOnSave was never applied`);
    }
    log(`save #${attempt}: VS Code sent no source.fixAll request (workspace settings not applied yet); saving again`);
  }
  await expectStatus('unasync: in sync');
  await driftRow().waitFor({ state: 'detached', timeout: STEP_TIMEOUT })
    .catch(() => { throw new Error('a drift diagnostic remained after fixAll on save'); });
  log('fixAll on save regenerated the twin');
  await shot('vscode-5-fixall-on-save.png');
}

/** The contributed JSON Schema validates any unasync.json (VS Code's JSON support, no server). */
async function schemaValidation() {
  step = 'unasync.json validated by the contributed schema';
  await page.keyboard.press('Escape'); // close whatever widget a failed step left open
  // A second project in a sub-folder, written last so it does not change what the server checked.
  fs.mkdirSync(path.join(ws, 'schema-check'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'schema-check', 'unasync.json'), '{\n  "sources": ["*.c"],\n  "e2e_unknown_key": true\n}\n');
  await openFromExplorer('schema-check/unasync.json');
  await showProblems();
  const row = page.locator('.markers-panel .monaco-list-row', { hasText: /Property e2e_unknown_key is not allowed/ }).first();
  await row.waitFor({ timeout: STEP_TIMEOUT });
  log('schema:', (await row.innerText()).replace(/\s+/g, ' '));
}

/** Last, because it stops the server: a missing executable is reported with "Open Setting". */
async function missingBinary() {
  step = 'a missing binary: error with a button that opens the setting';
  await page.keyboard.press('Escape');
  // unasync.path is machine-overridable, so the workspace's settings.json may set it.
  const wsSettingsFile = path.join(ws, '.vscode', 'settings.json');
  const wsSettings = fs.existsSync(wsSettingsFile) ? JSON.parse(fs.readFileSync(wsSettingsFile, 'utf8')) : {};
  fs.mkdirSync(path.dirname(wsSettingsFile), { recursive: true });
  const missing = path.join(ws, 'no-such-unasync');
  wsSettings['unasync.path'] = missing;
  fs.writeFileSync(wsSettingsFile, JSON.stringify(wsSettings, null, 2));
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: missing });
  await toast.first().waitFor({ timeout: STEP_TIMEOUT });
  await expectStatus('unasync: not found');
  const openSetting = toast.first().locator('.monaco-button', { hasText: 'Open Setting' });
  await openSetting.waitFor({ timeout: STEP_TIMEOUT });
  await page.waitForTimeout(500); // the toast fades in
  await shot('vscode-6-binary-missing.png');
  step = '"Open Setting" opens unasync.path';
  await openSetting.click();
  await page.locator('.settings-editor .setting-item-contents', { hasText: /Unasync: Path|unasync\.path/i }).first()
    .waitFor({ timeout: STEP_TIMEOUT });
  log('missing binary reported; "Open Setting" opened the unasync.path setting');
}

const guard = setTimeout(async () => {
  log(`FAIL: global timeout during: ${step}`);
  if (page) await shot('vscode-fail.png').catch(() => {});
  if (context) await context.close().catch(() => {});
  process.exit(3);
}, 240000);

/** Runs the drift scenario, then (even when it failed) the missing-binary one; rethrows the first failure. */
async function all() {
  let first;
  try {
    await main();
  } catch (e) {
    first = new Error(`${step}: ${e.message}`);
    log(`FAIL during: ${first.message}`);
    if (page) await shot('vscode-fail.png').catch(() => {});
    if (!page) throw first;
    log('continuing with the checks that need no server');
  }
  await schemaValidation();
  await missingBinary();
  if (first) {
    step = 'drift scenario (see above)';
    throw first;
  }
}

all().then(async () => {
  clearTimeout(guard);
  log(`PASS (first status ${timings.firstStatus} s after start; save -> Problems ${timings.saveToProblems} s)`);
  await context.close();
  process.exit(0);
}, async (e) => {
  clearTimeout(guard);
  log(`FAIL during: ${step}: ${e.message}`);
  if (page && step !== 'drift scenario (see above)') {
    await shot('vscode-fail.png').catch(() => {});
    log('status bar:', await statusText().catch(() => '?'));
  }
  if (context) await context.close().catch(() => {});
  process.exit(1);
});
