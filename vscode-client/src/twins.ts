// Pure twin logic: naming a source's twin, reading a twin's header, unasync.json lookup and globs.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** The configuration file name, found by walking up from a file like `.clang-format`. */
export const CONFIG_NAME = 'unasync.json';

/** The default value of the `twin` key: `limiter.c` -> `sync_limiter.c`, beside the source. */
export const DEFAULT_TWIN_PATTERN = 'sync_{name}';

/** What the extension needs from an `unasync.json`; everything else is the server's business. */
export interface TwinConfig {
  /** Folder that holds the unasync.json; source paths in twin headers are relative to it. */
  dir: string;
  twin: string;
  sources: string[];
  exclude: string[];
  /** A parse problem, when the file is not valid JSON; the defaults are used then. */
  error?: string;
}

/** True when `pattern` can name a twin: it must contain `{name}` or `{stem}`. */
export function isTwinPattern(pattern: string): boolean {
  return pattern.includes('{name}') || pattern.includes('{stem}');
}

/**
 * Returns the file name of the twin of `sourceBase` (a base name such as `limiter.c`) under the
 * naming `pattern` (the `twin` key): `{name}` is the base name, `{stem}` the name without its
 * extension, `{ext}` the extension without the dot (as the transformer names twins). Undefined
 * when the pattern has neither `{name}` nor `{stem}`.
 */
export function twinBaseName(sourceBase: string, pattern: string = DEFAULT_TWIN_PATTERN): string | undefined {
  if (!isTwinPattern(pattern) || sourceBase === '') {
    return undefined;
  }
  const dot = sourceBase.lastIndexOf('.');
  const hasExt = dot > 0;
  const stem = hasExt ? sourceBase.slice(0, dot) : sourceBase;
  const ext = hasExt ? sourceBase.slice(dot + 1) : '';
  return pattern.replace(/\{(name|stem|ext)\}/g, (_m, key: string) => (key === 'name' ? sourceBase : key === 'stem' ? stem : ext));
}

/** Returns the absolute path of the twin of `sourcePath`: beside it, named by `pattern`. */
export function twinPathFor(sourcePath: string, pattern: string = DEFAULT_TWIN_PATTERN): string | undefined {
  const base = twinBaseName(path.basename(sourcePath), pattern);
  return base === undefined ? undefined : path.join(path.dirname(sourcePath), base);
}

/**
 * Reads the `unasync:source=<path>` field of a generated file's first line. Returns the path as
 * written (relative to the unasync.json folder), or undefined when the line is not a twin header.
 * The value ends at whitespace; a double-quoted value may contain spaces.
 */
export function parseSourceHeader(firstLine: string): string | undefined {
  const m = /unasync:source=(?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(firstLine);
  if (m === null) {
    return undefined;
  }
  let value = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '');
  if (m[1] === undefined && value.endsWith('*/')) {
    value = value.slice(0, -2); // a header written as `...unasync:source=x.c*/`
  }
  return value === '' ? undefined : value;
}

/** Returns the first line of `text`, without its line ending. */
export function firstLineOf(text: string): string {
  const nl = text.search(/\r?\n/);
  return nl < 0 ? text : text.slice(0, nl);
}

/**
 * Resolves a twin's header against the folder of its unasync.json. Returns the absolute source
 * path, or undefined when `firstLine` is not a header or names a path outside `configDir` (a
 * header is data from disk: it must not send the editor anywhere else).
 */
export function sourcePathFromHeader(firstLine: string, configDir: string): string | undefined {
  const rel = parseSourceHeader(firstLine);
  if (rel === undefined) {
    return undefined;
  }
  const abs = path.resolve(configDir, rel);
  const back = path.relative(configDir, abs);
  if (back === '' || back.startsWith('..') || path.isAbsolute(back)) {
    return undefined;
  }
  return abs;
}

/**
 * Converts a glob of unasync.json to a regular expression that matches a whole '/'-separated
 * relative path, with the engine's rules: `*` and `?` within one segment, `**` across segments
 * (`**` + `/` matches zero or more whole segments), `[abc]`, `[a-z]` and `[!abc]` classes that
 * never match '/', and a `[` without its `]` taken literally.
 */
export function globToRegExp(glob: string): RegExp {
  const lit = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const inClass = (c: string): string => c.replace(/[\\\]^-]/g, '\\$&');
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '*' && glob.charAt(i + 1) === '*') {
      i++;
      if (glob.charAt(i + 1) === '/') {
        i++;
        re += '(?:[^/]*/)*';
      } else {
        re += '.*';
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      let p = i + 1;
      const neg = glob.charAt(p) === '!' || glob.charAt(p) === '^';
      if (neg) p++;
      const start = p;
      let members = '';
      while (p < glob.length && (glob.charAt(p) !== ']' || p === start)) {
        if (glob.charAt(p + 1) === '-' && p + 2 < glob.length && glob.charAt(p + 2) !== ']') {
          if (glob.charAt(p) <= glob.charAt(p + 2)) {
            members += `${inClass(glob.charAt(p))}-${inClass(glob.charAt(p + 2))}`; // a reversed range matches nothing
          }
          p += 3;
        } else {
          members += inClass(glob.charAt(p));
          p++;
        }
      }
      if (p >= glob.length) {
        re += lit(c); // no closing ']': a literal '['
      } else {
        re += neg ? `[^/${members}]` : `(?!/)[${members}]`;
        i = p;
      }
    } else {
      re += lit(c);
    }
  }
  return new RegExp(`^${re}$`);
}

/** True when `relPath` (relative to the config folder, any separator) matches one of `globs`. */
export function matchesAny(relPath: string, globs: readonly string[]): boolean {
  const p = relPath.split(path.sep).join('/');
  return globs.some((g) => globToRegExp(g.replace(/^\.\//, '')).test(p));
}

/**
 * Parses the text of an unasync.json found in `dir`. Never throws: invalid JSON or wrongly typed
 * keys fall back to the defaults, with `error` set (the server reports such files with locations).
 */
export function parseConfig(text: string, dir: string): TwinConfig {
  const config: TwinConfig = { dir, twin: DEFAULT_TWIN_PATTERN, sources: [], exclude: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    config.error = `${CONFIG_NAME}: ${(e as Error).message}`;
    return config;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    config.error = `${CONFIG_NAME}: the top level must be an object`;
    return config;
  }
  const obj = json as Record<string, unknown>;
  if (typeof obj.twin === 'string' && isTwinPattern(obj.twin)) {
    config.twin = obj.twin;
  }
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
  config.sources = strings(obj.sources);
  config.exclude = strings(obj.exclude);
  return config;
}

/**
 * Walks up from `startDir` to the filesystem root and returns the first folder that holds an
 * unasync.json, or undefined. `exists` is injectable for tests; it defaults to a stat of the file.
 */
export async function findConfigDir(
  startDir: string,
  exists: (file: string) => Promise<boolean> = fileExists,
): Promise<string | undefined> {
  let dir = path.resolve(startDir);
  for (;;) {
    if (await exists(path.join(dir, CONFIG_NAME))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}

/** Loads the configuration that governs `filePath`, or undefined when none is found above it. */
export async function loadConfigFor(filePath: string): Promise<TwinConfig | undefined> {
  const dir = await findConfigDir(path.dirname(filePath));
  if (dir === undefined) {
    return undefined;
  }
  const text = await fs.readFile(path.join(dir, CONFIG_NAME), 'utf8');
  return parseConfig(text, dir);
}

/** How a file relates to the unasync pattern. */
export type FileRole =
  | { role: 'twin'; source: string }
  | { role: 'source'; twin: string }
  | { role: 'other' };

/**
 * Classifies `filePath` from its first line and its configuration: a file whose line 1 is a twin
 * header is a twin (never a source); a file matched by `sources` and not by `exclude` is a source.
 */
export function classify(filePath: string, firstLine: string, config: TwinConfig): FileRole {
  const fromHeader = sourcePathFromHeader(firstLine, config.dir);
  if (fromHeader !== undefined) {
    return { role: 'twin', source: fromHeader };
  }
  const rel = path.relative(config.dir, filePath);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    return { role: 'other' };
  }
  if (matchesAny(rel, config.sources) && !matchesAny(rel, config.exclude)) {
    const twin = twinPathFor(filePath, config.twin);
    if (twin !== undefined) {
      return { role: 'source', twin };
    }
  }
  return { role: 'other' };
}

async function fileExists(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}
