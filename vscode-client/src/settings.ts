// Pure settings translation: VS Code's `unasync.*` settings -> what the server reads.

/** Severity of drift diagnostics; the server maps it to an LSP DiagnosticSeverity. */
export type DriftSeverity = 'error' | 'warning' | 'information' | 'hint';
export type TraceLevel = 'off' | 'messages' | 'verbose';

/**
 * The settings object the server receives, both as `initializationOptions` and as the answer to
 * `workspace/configuration` for the section `unasync`. `unasync.path` is client-only: not sent.
 */
export interface ServerSettings {
  lint: { enable: boolean };
  drift: { severity: DriftSeverity };
  trace: { server: TraceLevel };
}

/** The configuration section the server asks for. */
export const SECTION = 'unasync';

export const DEFAULT_SETTINGS: ServerSettings = {
  lint: { enable: true },
  drift: { severity: 'warning' },
  trace: { server: 'off' },
};

export const SEVERITIES: readonly DriftSeverity[] = ['error', 'warning', 'information', 'hint'];
export const TRACES: readonly TraceLevel[] = ['off', 'messages', 'verbose'];

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

/**
 * Builds the server settings from a getter of keys relative to `unasync` (`lint.enable`, ...), as
 * `vscode.workspace.getConfiguration('unasync').get` is. A missing or mistyped value (settings.json
 * is hand-edited) becomes its default, so the server never sees a wrong type.
 */
export function toServerSettings(get: (key: string) => unknown): ServerSettings {
  const lint = get('lint.enable');
  return {
    lint: { enable: typeof lint === 'boolean' ? lint : DEFAULT_SETTINGS.lint.enable },
    drift: { severity: oneOf(get('drift.severity'), SEVERITIES, DEFAULT_SETTINGS.drift.severity) },
    trace: { server: oneOf(get('trace.server'), TRACES, DEFAULT_SETTINGS.trace.server) },
  };
}

/**
 * Answers one `workspace/configuration` item: `unasync` gives the whole object, `unasync.lint`
 * a part, `unasync.lint.enable` a value. Returns undefined for a section that is not ours, so the
 * caller can fall back to VS Code's default answer; `null` for an unknown key inside ours.
 */
export function answerSection(section: string | undefined, settings: ServerSettings): unknown {
  if (section === undefined) {
    return undefined;
  }
  if (section === SECTION) {
    return settings;
  }
  if (!section.startsWith(`${SECTION}.`)) {
    return undefined;
  }
  let node: unknown = settings;
  for (const key of section.slice(SECTION.length + 1).split('.')) {
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, key)) {
      return null;
    }
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * The command and argument that open the Settings editor on `unasync.path`. In a remote window
 * (code-server, SSH, WSL, containers) a machine-overridable setting is only listed under the
 * Remote tab, so the User tab would show "No Settings Found".
 */
export function openPathSettingCommand(remoteName: string | undefined): { command: string; arg: { query: string } } {
  const command = remoteName !== undefined && remoteName !== '' ? 'workbench.action.openRemoteSettings' : 'workbench.action.openSettings';
  return { command, arg: { query: '@id:unasync.path' } };
}
