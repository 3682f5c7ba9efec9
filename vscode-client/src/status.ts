// Pure status-bar logic: what the `unasync/status` notification and the client state look like.

/** Params of the server's `unasync/status` notification. */
export interface TwinStatus {
  twins: number;
  outOfDate: number;
}

/** Where the extension is in its life; the status bar shows one of these. */
export type ClientState =
  | { kind: 'starting' }
  | { kind: 'running'; status?: TwinStatus }
  | { kind: 'missing'; detail: string }
  | { kind: 'failed'; detail: string }
  | { kind: 'stopped' };

/** What the status bar item shows. `severity` picks the background colour. */
export interface StatusView {
  text: string;
  tooltip: string;
  severity: 'ok' | 'warning' | 'error';
  /** The extension command run on click. */
  command: string;
  /** False when there is nothing to say: a folder with no unasync project (no twins at all). */
  visible: boolean;
}

/** Command ids the extension contributes (package.json `contributes.commands`). */
export const COMMANDS = {
  regenerateAll: 'unasync.regenerateAllTwins',
  regenerateFile: 'unasync.regenerateTwin',
  openSource: 'unasync.openSource',
  openTwin: 'unasync.openTwin',
  restart: 'unasync.restartServer',
  showOutput: 'unasync.showOutput',
} as const;

/** Command ids the server executes (`workspace/executeCommand`); see docs/vscode.md. */
export const SERVER_COMMANDS = {
  regenerate: 'unasync.regenerate',
  regenerateAll: 'unasync.regenerateAll',
} as const;

/** The server's custom status notification. */
export const STATUS_NOTIFICATION = 'unasync/status';

/**
 * Validates the params of an `unasync/status` notification: both counts must be integers >= 0 and
 * outOfDate <= twins. Returns undefined for anything else (a malformed message changes nothing).
 */
export function parseStatus(params: unknown): TwinStatus | undefined {
  if (typeof params !== 'object' || params === null) {
    return undefined;
  }
  const { twins, outOfDate } = params as Record<string, unknown>;
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!count(twins) || !count(outOfDate) || outOfDate > twins) {
    return undefined;
  }
  return { twins, outOfDate };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Maps the client state to the status bar item: "unasync: in sync" / "unasync: N out of date". */
export function statusView(state: ClientState): StatusView {
  switch (state.kind) {
    case 'starting':
      return { text: 'unasync: starting', tooltip: 'The unasync language server is starting', severity: 'ok', command: COMMANDS.showOutput, visible: true };
    case 'running': {
      const s = state.status;
      if (s === undefined) {
        return { text: 'unasync: checking', tooltip: 'Checking the twins of this workspace', severity: 'ok', command: COMMANDS.showOutput, visible: true };
      }
      if (s.outOfDate === 0) {
        const tooltip = s.twins === 0 ? 'No generated twins in this workspace' : `All ${plural(s.twins, 'twin is', 'twins are')} in sync with their async sources`;
        return { text: 'unasync: in sync', tooltip, severity: 'ok', command: COMMANDS.regenerateAll, visible: s.twins > 0 };
      }
      return {
        text: `unasync: ${s.outOfDate} out of date`,
        tooltip: `${s.outOfDate} of ${plural(s.twins, 'twin', 'twins')} out of date. Click to regenerate all twins.`,
        severity: 'warning',
        command: COMMANDS.regenerateAll,
        visible: true,
      };
    }
    case 'missing':
      return { text: 'unasync: not found', tooltip: state.detail, severity: 'error', command: COMMANDS.restart, visible: true };
    case 'failed':
      return { text: 'unasync: stopped', tooltip: state.detail, severity: 'error', command: COMMANDS.showOutput, visible: true };
    case 'stopped':
      return { text: 'unasync: stopped', tooltip: 'The unasync language server is not running', severity: 'error', command: COMMANDS.restart, visible: true };
  }
}
