// Bundles the extension with esbuild into dist/extension.js; with --tests, the unit tests into out/test/.
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tests = process.argv.includes('--tests');
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', absWorkingDir: root };

if (tests) {
  // Unit tests import only the plain modules; `vscode` is not available outside VS Code.
  const entryPoints = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => join('test', f));
  await esbuild.build({ ...common, entryPoints, outdir: 'out/test', external: ['vscode'], sourcemap: 'inline' });
} else {
  await esbuild.build({
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
    minify: process.env.UNASYNC_VSIX_DEBUG ? false : true,
    sourcemap: false,
  });
}
