// VS Code entry point: starts `unasync --stdio`, wires commands, the status bar and settings.

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  ApplyWorkspaceEditParams,
  ApplyWorkspaceEditRequest,
  ApplyWorkspaceEditResult,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TextDocumentEdit,
} from 'vscode-languageclient/node';

import { resolveServerPath } from './serverPath';
import { answerSection, openPathSettingCommand, SECTION, ServerSettings, toServerSettings } from './settings';
import { ClientState, COMMANDS, parseStatus, SERVER_COMMANDS, STATUS_NOTIFICATION, statusView } from './status';
import { classify, FileRole, firstLineOf, loadConfigFor, parseSourceHeader } from './twins';

const CLIENT_ID = 'unasync'; // also makes vscode-languageclient honour `unasync.trace.server`
const CLIENT_NAME = 'unasync';

/** Files the server is told about: C sources, and headers (VS Code gives `.h` the cpp language). */
const DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'c' },
  { scheme: 'file', language: 'cpp', pattern: '**/*.h' },
];

function currentSettings(): ServerSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  return toServerSettings((key) => cfg.get(key));
}

/** Role of a document: twin (with its source), source (with its twin) or other. */
async function roleOf(doc: vscode.TextDocument): Promise<FileRole> {
  if (doc.uri.scheme !== 'file') {
    return { role: 'other' };
  }
  const firstLine = doc.lineCount > 0 ? doc.lineAt(0).text : '';
  try {
    const config = await loadConfigFor(doc.uri.fsPath);
    if (config === undefined) {
      return { role: 'other' };
    }
    return classify(doc.uri.fsPath, firstLine, config);
  } catch {
    return { role: 'other' };
  }
}

/** True when an open document looks generated (line 1 carries `unasync:source=`). */
function isTwinDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && doc.lineCount > 0 && parseSourceHeader(firstLineOf(doc.lineAt(0).text)) !== undefined;
}

class UnasyncExtension implements vscode.Disposable {
  private readonly output: vscode.OutputChannel;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private client: LanguageClient | undefined;
  private state: ClientState = { kind: 'starting' };
  private stopping = false;
  /** Server edits are applied one after another; a regenerate waits for this before saving. */
  private edits: Promise<unknown> = Promise.resolve();

  constructor() {
    this.output = vscode.window.createOutputChannel(CLIENT_NAME);
    this.statusItem = vscode.window.createStatusBarItem('unasync.status', vscode.StatusBarAlignment.Left, 10);
    this.statusItem.name = 'unasync';
    this.render();

    const reg = (id: string, fn: (...args: unknown[]) => unknown): void => {
      this.disposables.push(vscode.commands.registerCommand(id, fn));
    };
    reg(COMMANDS.regenerateAll, () => this.regenerateAll());
    reg(COMMANDS.regenerateFile, (arg) => this.regenerateFile(arg));
    reg(COMMANDS.openSource, (arg) => this.openCounterpart('source', arg));
    reg(COMMANDS.openTwin, (arg) => this.openCounterpart('twin', arg));
    reg(COMMANDS.restart, () => this.restart());
    reg(COMMANDS.showOutput, () => this.output.show(true));

    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigurationChanged(e)),
      vscode.window.onDidChangeActiveTextEditor((ed) => void this.updateContext(ed)),
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (doc === vscode.window.activeTextEditor?.document) {
          void this.updateContext(vscode.window.activeTextEditor);
        }
      }),
    );
    void this.updateContext(vscode.window.activeTextEditor);
  }

  /** Resolves the binary and starts the language client. Failures end in the status bar. */
  async start(): Promise<void> {
    this.setState({ kind: 'starting' });
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const resolved = await resolveServerPath({
      setting: vscode.workspace.getConfiguration(SECTION).get<string>('path', ''),
      envPath: process.env.PATH,
      workspaceFolder: folder,
    });
    if (!resolved.ok) {
      this.setState({ kind: 'missing', detail: resolved.message });
      this.output.appendLine(resolved.message);
      void vscode.window.showErrorMessage(resolved.message, 'Open Setting', 'Show Output').then((choice) => {
        if (choice === 'Open Setting') {
          const open = openPathSettingCommand(vscode.env.remoteName);
          void vscode.commands.executeCommand(open.command, open.arg);
        } else if (choice === 'Show Output') {
          this.output.show(true);
        }
      });
      return;
    }
    this.output.appendLine(`Starting ${resolved.path} --stdio`);
    const serverOptions: ServerOptions = {
      command: resolved.path,
      args: ['--stdio'],
      options: folder !== undefined ? { cwd: folder } : {},
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: () => currentSettings(),
      // Drift is decided on save: when the server offers pull diagnostics, pull on save too.
      diagnosticPullOptions: { onChange: true, onSave: true },
      middleware: {
        workspace: {
          // Serve our section from the translated settings; anything else as VS Code would.
          configuration: async (params, token, next) => {
            const settings = currentSettings();
            const answers = params.items.map((item) => answerSection(item.section, settings));
            if (answers.every((a) => a !== undefined)) {
              return answers;
            }
            const fallback = await next(params, token);
            if (!Array.isArray(fallback)) {
              return fallback;
            }
            return answers.map((a, i) => (a !== undefined ? a : fallback[i]));
          },
        },
        // A quick fix or fixAll runs the server's commands through here: save the twins it edited.
        executeCommand: async (command, args, next) => {
          const cleanBefore = this.cleanTwinUris();
          const result = await next(command, args);
          await this.edits;
          await this.saveEditedTwins(cleanBefore);
          return result;
        },
      },
    };
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    this.client = client;
    client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
      const status = parseStatus(params);
      if (status !== undefined && this.client === client) {
        this.setState({ kind: 'running', status });
      }
    });
    // Replaces the client's own handler (same conversion and version check) so that a regenerate
    // can wait for the edits it caused: the server may answer executeCommand before VS Code has
    // applied its workspace/applyEdit.
    client.onRequest(ApplyWorkspaceEditRequest.type, (params) => this.applyServerEdit(client, params));
    client.onDidChangeState((e) => {
      if (this.client !== client) {
        return;
      }
      if (e.newState === State.Running && this.state.kind !== 'running') {
        this.setState({ kind: 'running' });
      } else if (e.newState === State.Stopped && !this.stopping) {
        this.setState({ kind: 'failed', detail: 'The unasync language server stopped. See the unasync output.' });
      }
    });
    try {
      await client.start();
      if (this.state.kind === 'starting') {
        this.setState({ kind: 'running' });
      }
    } catch (e) {
      const message = `unasync: the language server failed to start: ${(e as Error).message}`;
      this.output.appendLine(message);
      this.setState({ kind: 'failed', detail: message });
      void vscode.window.showErrorMessage(message, 'Show Output').then((c) => c && this.output.show(true));
    }
  }

  /** Stops the client (shutdown + exit); the server process must not outlive the extension. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    this.stopping = true;
    try {
      if (client.state !== State.Stopped) {
        await client.stop(5000);
      }
    } catch (e) {
      this.output.appendLine(`stopping the server: ${(e as Error).message}`);
    } finally {
      this.stopping = false;
      await client.dispose().catch(() => undefined);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    this.setState({ kind: 'stopped' });
    await this.start();
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
    this.statusItem.dispose();
    this.output.dispose();
  }

  private setState(state: ClientState): void {
    this.state = state;
    this.render();
  }

  private render(): void {
    const view = statusView(this.state);
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.command = view.command;
    if (view.visible) {
      this.statusItem.show();
    } else {
      this.statusItem.hide();
    }
    this.statusItem.backgroundColor =
      view.severity === 'ok' ? undefined : new vscode.ThemeColor(view.severity === 'warning' ? 'statusBarItem.warningBackground' : 'statusBarItem.errorBackground');
  }

  private onConfigurationChanged(e: vscode.ConfigurationChangeEvent): void {
    if (e.affectsConfiguration(`${SECTION}.path`)) {
      void this.restart();
      return;
    }
    if (e.affectsConfiguration(SECTION) && this.client?.state === State.Running) {
      // Push style for servers that do not pull; a pulling server asks workspace/configuration.
      void this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: currentSettings() } });
    }
  }

  private async updateContext(editor: vscode.TextEditor | undefined): Promise<void> {
    const role = editor !== undefined ? (await roleOf(editor.document)).role : 'other';
    await vscode.commands.executeCommand('setContext', 'unasync.activeFileIsTwin', role === 'twin');
    await vscode.commands.executeCommand('setContext', 'unasync.activeFileIsSource', role === 'source');
  }

  private applyServerEdit(client: LanguageClient, params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
    const run = async (): Promise<ApplyWorkspaceEditResult> => {
      const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d] as const));
      for (const change of params.edit.documentChanges ?? []) {
        if (TextDocumentEdit.is(change) && typeof change.textDocument.version === 'number' && change.textDocument.version >= 0) {
          const doc = open.get(client.protocol2CodeConverter.asUri(change.textDocument.uri).toString());
          if (doc !== undefined && doc.version !== change.textDocument.version) {
            return { applied: false, failureReason: `${doc.uri.fsPath} changed since the server computed the edit` };
          }
        }
      }
      const edit = await client.protocol2CodeConverter.asWorkspaceEdit(params.edit);
      return { applied: await vscode.workspace.applyEdit(edit) };
    };
    const result = this.edits.then(run, run);
    this.edits = result.catch(() => undefined);
    return result;
  }

  private cleanTwinUris(): Set<string> {
    return new Set(vscode.workspace.textDocuments.filter((d) => !d.isDirty && isTwinDocument(d)).map((d) => d.uri.toString()));
  }

  /**
   * The server regenerates an open twin with workspace/applyEdit, which leaves the buffer dirty.
   * A regenerate is meant to update the file on disk, so save the twins that were clean before.
   */
  private async saveEditedTwins(cleanBefore: Set<string>): Promise<void> {
    const edited = vscode.workspace.textDocuments.filter((d) => d.isDirty && cleanBefore.has(d.uri.toString()) && isTwinDocument(d));
    await Promise.all(edited.map((d) => d.save()));
  }

  private runningClient(): LanguageClient | undefined {
    if (this.client !== undefined && this.client.state === State.Running) {
      return this.client;
    }
    const detail = this.state.kind === 'missing' ? this.state.detail : 'The unasync language server is not running.';
    void vscode.window.showErrorMessage(detail, 'Restart Server', 'Show Output').then((c) => {
      if (c === 'Restart Server') {
        void this.restart();
      } else if (c === 'Show Output') {
        this.output.show(true);
      }
    });
    return undefined;
  }

  private async executeOnServer(title: string, command: string, args: unknown[]): Promise<void> {
    const client = this.runningClient();
    if (client === undefined) {
      return;
    }
    const cleanBefore = this.cleanTwinUris();
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, () =>
        client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }),
      );
      await this.edits;
      await this.saveEditedTwins(cleanBefore);
    } catch (e) {
      void vscode.window.showErrorMessage(`unasync: ${title} failed: ${(e as Error).message}`);
    }
  }

  private regenerateAll(): Promise<void> {
    return this.executeOnServer('Regenerating all twins', SERVER_COMMANDS.regenerateAll, []);
  }

  /** Regenerates the twin of the given or active file; from a twin, its source's twin (itself). */
  private async regenerateFile(arg: unknown): Promise<void> {
    const doc = await this.targetDocument(arg);
    if (doc === undefined) {
      return;
    }
    const role = await roleOf(doc);
    if (role.role === 'other') {
      void vscode.window.showInformationMessage(`unasync: ${path.basename(doc.uri.fsPath)} is neither an async source listed in unasync.json nor a generated twin.`);
      return;
    }
    const source = role.role === 'twin' ? vscode.Uri.file(role.source) : doc.uri;
    await this.executeOnServer(`Regenerating the twin of ${path.basename(source.fsPath)}`, SERVER_COMMANDS.regenerate, [source.toString()]);
  }

  /** Opens the async source of a twin, or the twin of a source; from the other side, says so. */
  private async openCounterpart(want: 'source' | 'twin', arg: unknown): Promise<void> {
    const doc = await this.targetDocument(arg);
    if (doc === undefined) {
      return;
    }
    const role = await roleOf(doc);
    const name = path.basename(doc.uri.fsPath);
    let target: string | undefined;
    if (want === 'source' && role.role === 'twin') {
      target = role.source;
    } else if (want === 'twin' && role.role === 'source') {
      target = role.twin;
    } else if (role.role === want) {
      void vscode.window.showInformationMessage(`unasync: ${name} is itself the ${want === 'source' ? 'async source' : 'generated twin'}.`);
      return;
    } else {
      void vscode.window.showInformationMessage(`unasync: ${name} is neither an async source listed in unasync.json nor a generated twin.`);
      return;
    }
    try {
      await vscode.window.showTextDocument(vscode.Uri.file(target), { preview: false });
    } catch {
      const choice = await vscode.window.showWarningMessage(`unasync: ${path.basename(target)} does not exist yet.`, 'Regenerate');
      if (choice === 'Regenerate') {
        await this.executeOnServer(`Generating ${path.basename(target)}`, SERVER_COMMANDS.regenerate, [doc.uri.toString()]);
      }
    }
  }

  /** The document a command acts on: a URI argument (menus pass one) or the active editor's. */
  private async targetDocument(arg: unknown): Promise<vscode.TextDocument | undefined> {
    if (arg instanceof vscode.Uri) {
      return vscode.workspace.openTextDocument(arg);
    }
    const doc = vscode.window.activeTextEditor?.document;
    if (doc === undefined) {
      void vscode.window.showInformationMessage('unasync: open a C file first.');
    }
    return doc;
  }
}

let extension: UnasyncExtension | undefined;

/** Called by VS Code on the activation events of package.json. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extension = new UnasyncExtension();
  context.subscriptions.push(extension);
  await extension.start();
}

/** Called by VS Code on shutdown; the returned promise lets the server exit cleanly. */
export async function deactivate(): Promise<void> {
  const ext = extension;
  extension = undefined;
  await ext?.stop();
}
