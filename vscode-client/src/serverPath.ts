// Pure resolution of the server executable from the `unasync.path` setting or PATH.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as os from 'node:os';

/** The executable's name when `unasync.path` is empty. */
export const EXECUTABLE = 'unasync';

export type Resolved =
  | { ok: true; path: string }
  | { ok: false; reason: 'not-found' | 'not-executable'; message: string };

export interface ResolveInput {
  /** The `unasync.path` setting ('' when unset). */
  setting: string;
  /** The PATH of the extension host. */
  envPath: string | undefined;
  /** First workspace folder, for relative settings and `${workspaceFolder}`. */
  workspaceFolder: string | undefined;
  /** Injectable for tests; defaults to an X_OK access check on a regular file. */
  isExecutable?: (file: string) => Promise<boolean>;
}

/**
 * Resolves the server binary. With a setting: `~` and `${workspaceFolder}` are expanded and a
 * relative path is taken from the first workspace folder; the file must be executable. Without:
 * the first executable `unasync` in the PATH entries. Never throws; a failure carries a message
 * fit to show the user (it says which setting to change).
 */
export async function resolveServerPath(input: ResolveInput): Promise<Resolved> {
  const isExec = input.isExecutable ?? isExecutableFile;
  const setting = input.setting.trim();
  if (setting !== '') {
    let p = setting;
    if (p === '~' || p.startsWith('~/')) {
      p = path.join(os.homedir(), p.slice(1));
    }
    if (p.includes('${workspaceFolder}')) {
      if (input.workspaceFolder === undefined) {
        return { ok: false, reason: 'not-found', message: `unasync.path "${setting}" uses \${workspaceFolder}, but no folder is open.` };
      }
      p = p.split('${workspaceFolder}').join(input.workspaceFolder);
    }
    if (!path.isAbsolute(p)) {
      p = path.resolve(input.workspaceFolder ?? process.cwd(), p);
    }
    if (await isExec(p)) {
      return { ok: true, path: p };
    }
    return { ok: false, reason: 'not-executable', message: `The unasync executable set in unasync.path (${p}) does not exist or is not executable.` };
  }
  const dirs = (input.envPath ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = path.join(dir, EXECUTABLE);
    if (await isExec(candidate)) {
      return { ok: true, path: candidate };
    }
  }
  return {
    ok: false,
    reason: 'not-found',
    message: 'The unasync executable was not found on PATH. Install unasync or set unasync.path to the binary.',
  };
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) {
      return false;
    }
    await fs.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
