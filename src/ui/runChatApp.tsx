// `parley` without -p: the interactive chat. Builds the controller and the screen, runs
// until the user leaves, and saves on every way out (keys, /exit, SIGTERM, SIGHUP).
import type { ReactElement } from 'react';
import { render } from 'ink';
import type { EngineClient } from '../engine/engineClient.js';
import { openSettings, type SettingsStore } from '../settings/settingsFile.js';
import { effectiveSettings } from '../settings/settingsPrecedence.js';
import type { Settings } from '../settings/settingsSchema.js';
import type { SessionStore } from '../session/sessionStore.js';
import { resolveSessionsDir, type SessionsDirSource } from '../session/sessionsDir.js';
import type { ClipboardRoute } from '../chat/chatContext.js';
import { clipboardSequence } from '../text/osc52.js';
import { App } from './App.js';
import { ChatController } from '../chat/chatController.js';
import { chooseSession } from '../chat/chooseSession.js';
import { COMMANDS } from '../chat/commands/commandTable.js';
import { installLastResort } from './lastResort.js';
import { appendHistory, historyPath, loadHistory } from './historyFile.js';
import { ThemeContext, themeFor } from './theme.js';
import { sanitizeForTerminal } from '../text/terminalText.js';

// Erase the screen and the scrollback, cursor home.
const CLEAR_TERMINAL = '\u001b[2J\u001b[3J\u001b[H';
// Cursor visible, bracketed paste off.
const SHOW_CURSOR = '\u001b[?25h\u001b[?2004l';

export interface ChatAppOptions {
  /** What the command line asked of the chat's start. */
  args: { offline: boolean; resume: boolean; session?: string; system?: string };
  /** Settings from command-line flags (model, dtype, sampling). */
  flags: Partial<Settings>;
  /** Settings from the settings file. */
  stored: Partial<Settings>;
  store: SessionStore;
  /** Where the sessions folder came from; by default worked out from `env` and the setting. */
  sessionsDirSource?: SessionsDirSource;
  /** Model cache of the worker engine. */
  cacheDir: string;
  /** Tests pass a fake; by default the worker engine is started (and disposed at the end). */
  engine?: EngineClient;
  /** PARLEY_DATA_DIR (input history), PARLEY_CONFIG_DIR (--global), NO_COLOR. */
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
}

export interface PreparedChat {
  element: ReactElement;
  controller: ChatController;
}

/** The screen and its controller, not yet rendered: runChatApp renders it, tests too. */
export async function prepareChatApp(
  options: ChatAppOptions & {
    engine: EngineClient;
    clearTerminal?: () => void;
    copyToClipboard?: (text: string) => ClipboardRoute | null;
  },
): Promise<PreparedChat> {
  const env = options.env ?? process.env;
  const historyFile = historyPath(env);
  const historyNotices: string[] = [];
  const history = await loadHistory(historyFile, (line) => historyNotices.push(line));
  let settings: SettingsStore | null = null;
  try {
    settings = openSettings({ env });
  } catch {
    // The CLI already reported a broken settings file; --global then says it is unavailable.
  }
  const { values } = effectiveSettings({ flags: options.flags, settings: options.stored });
  const { session, greeting } = await chooseSession(
    options.store,
    {
      ...(options.args.session !== undefined ? { session: options.args.session } : {}),
      ...(options.args.system !== undefined ? { system: options.args.system } : {}),
      resume: options.args.resume,
      defaultPersona: values.persona,
    },
    new Date(),
  );
  const controller = new ChatController({
    engine: options.engine,
    session,
    flags: options.flags,
    stored: options.stored,
    settings,
    store: options.store,
    sessionsDirSource: options.sessionsDirSource ?? sessionsDirSourceOf(options.store.dir, env, options.stored.sessionsDir ?? null),
    ...(options.copyToClipboard ? { copyToClipboard: options.copyToClipboard } : {}),
    offline: options.args.offline,
    historyFile,
    greeting: [...historyNotices, ...greeting],
    colors: themeFor(env).colors,
    ...(options.clearTerminal ? { clearTerminal: options.clearTerminal } : {}),
  });
  const element = (
    <ThemeContext.Provider value={themeFor(env)}>
      <App chat={controller} commands={COMMANDS} history={history} onHistoryEntry={(text) => void appendHistory(historyFile, text)} />
    </ThemeContext.Provider>
  );
  return { element, controller };
}

/** Where `dir` came from: what the environment and the setting give, or else the --sessions-dir flag. */
function sessionsDirSourceOf(dir: string, env: NodeJS.ProcessEnv, setting: string | null): SessionsDirSource {
  const resolved = resolveSessionsDir({ env, setting });
  return resolved.dir === dir ? resolved.source : 'flag';
}

/**
 * How the chat is drawn (the benchmark draws it the same way). Ctrl+C is ours: it stops a
 * reply first. (Ink's incrementalRendering left stale spinner and status lines on screen
 * in tmux, so it stays off.)
 */
export const INK_OPTIONS = { exitOnCtrlC: false } as const;

/** What the terminal says on leaving a chat that was saved: where it went and how to come back. */
export function leavingLine(name: string): string {
  return `saved as ${sanitizeForTerminal(name)}; resume with parley --resume (or parley -s ${sanitizeForTerminal(name)})`;
}

/** Runs the chat until the user leaves; resolves with the exit code. */
export async function runChatApp(options: ChatAppOptions): Promise<number> {
  const ownEngine = options.engine === undefined;
  const engine = options.engine ?? (await import('../engine/worker/workerEngineClient.js')).createEngine({ cacheDir: options.cacheDir });
  try {
    const stdout = options.stdout ?? process.stdout;
    const clearTerminal = (): void => {
      if (stdout.isTTY) stdout.write(CLEAR_TERMINAL);
    };
    const inTmux = Boolean((options.env ?? process.env)['TMUX']);
    const copyToClipboard = (text: string): ClipboardRoute | null => {
      if (!stdout.isTTY) return null;
      stdout.write(clipboardSequence(text, inTmux));
      return inTmux ? 'tmux' : 'terminal';
    };
    const { element, controller } = await prepareChatApp({ ...options, engine, clearTerminal, copyToClipboard });
    const stdin = options.stdin ?? process.stdin;
    const instance = render(element, { ...INK_OPTIONS, stdin, stdout });
    // A signal (or a terminal that is gone) saves and leaves like Ctrl+D, without asking.
    let shuttingDown: Promise<number> | null = null;
    const onSignal = (): void => {
      if (shuttingDown) return;
      shuttingDown = controller.shutdown();
      void shuttingDown.then(() => instance.unmount());
    };
    // Ink's signal-exit unmounts the app on these signals, then raises the signal again once
    // no listener but its own is left: ours stay until the session is saved, or that second
    // signal would kill the process first.
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    // Writing to a closed terminal fails (EIO); there is nothing left to show, only to save.
    stdout.on('error', onSignal);
    const removeLastResort = installLastResort({
      restoreTerminal: () => {
        instance.unmount();
        if (stdin.isTTY) stdin.setRawMode(false);
        if (stdout.isTTY) stdout.write(SHOW_CURSOR);
      },
      save: () => shuttingDown ?? controller.shutdown(),
      writeLine: (line) => process.stderr.write(`${line}\n`),
      exit: (code) => process.exit(code),
    });
    controller.start();
    try {
      await instance.waitUntilExit();
      if (shuttingDown) await shuttingDown;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      stdout.off('error', onSignal);
      removeLastResort();
    }
    const unsaved = controller.unsavedReason;
    if (unsaved !== null) process.stderr.write(`parley: session ${controller.session.name} was not saved: ${unsaved}\n`);
    else if (controller.session.conversation.turns.length > 0) stdout.write(`${leavingLine(controller.session.name)}\n`);
    return controller.exitCode;
  } finally {
    if (ownEngine) await engine.dispose();
  }
}
