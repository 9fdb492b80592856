// Helpers for driving the Ink UI in tests: key sequences, polling the rendered frame, and
// a fake engine whose model loads can be slow, report downloads or fail.
import { render } from 'ink-testing-library';
import type { EngineClient, EngineError } from '../../src/engine/engineClient.js';
import type { LoadOptions, LoadProgress, ModelInfo } from '../../src/engine/protocol.js';
import type { Settings } from '../../src/settings/settingsSchema.js';
import { SessionStore } from '../../src/session/sessionStore.js';
import { prepareChatApp, type ChatAppOptions } from '../../src/ui/runChatApp.js';
import { FakeEngine, type FakeEngineOptions } from './fakeEngine.js';
import { tempParleyEnv } from './parleyEnv.js';
import { waitUntil } from './waitFor.js';

export const KEYS = {
  enter: '\r',
  altEnter: '\u001b\r',
  escape: '\u001b',
  tab: '\t',
  up: '\u001b[A',
  down: '\u001b[B',
  left: '\u001b[D',
  right: '\u001b[C',
  home: '\u001b[H',
  end: '\u001b[F',
  backspace: '\u007f',
  delete: '\u001b[3~',
  ctrlA: '\u0001',
  ctrlE: '\u0005',
  ctrlC: '\u0003',
  ctrlD: '\u0004',
  ctrlU: '\u0015',
  ctrlW: '\u0017',
  pasteStart: '\u001b[200~',
  pasteEnd: '\u001b[201~',
} as const;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const collapse = (text: string): string => text.replace(/\s+/g, ' ');

/**
 * Waits until the frame contains `text` (or matches the pattern). Text is compared with
 * runs of whitespace collapsed, so a line Ink wrapped at the terminal width still matches.
 */
export function waitForFrame(lastFrame: () => string | undefined, expected: string | RegExp, timeoutMs = 3000): Promise<string> {
  const matches = (frame: string): boolean =>
    typeof expected === 'string' ? collapse(frame).includes(collapse(expected)) : expected.test(frame);
  return waitUntil(() => lastFrame() ?? '', matches, timeoutMs, JSON.stringify(String(expected)));
}

export interface LoadPlan {
  /** Ms before the load finishes. */
  delayMs?: number;
  /** Download progress events sent first: [file, loaded, total]. */
  downloads?: [string, number, number][];
  error?: EngineError;
  randomWeights?: boolean;
}

/** FakeEngine with per-model load behaviour: delays, download progress, failures, demo weights. */
export class UiFakeEngine extends FakeEngine {
  constructor(
    options: FakeEngineOptions,
    private readonly plans: Record<string, LoadPlan> = {},
  ) {
    super(options);
  }

  override async load(modelRef: string, options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    const plan = this.plans[modelRef] ?? {};
    for (const [file, loaded, total] of plan.downloads ?? []) onProgress?.({ kind: 'download', file, loaded, total });
    if (plan.delayMs) await sleep(plan.delayMs);
    if (plan.error) throw plan.error;
    const info = await super.load(modelRef, options, onProgress);
    this.model = { ...info, randomWeights: plan.randomWeights ?? false };
    return this.model;
  }
}

export interface ChatDirs {
  root: string;
  sessions: string;
  env: NodeJS.ProcessEnv;
}

export async function makeDirs(): Promise<ChatDirs> {
  const { root, env } = await tempParleyEnv('ui');
  return { root, sessions: env.PARLEY_SESSIONS_DIR, env: { ...env, NO_COLOR: '1' } };
}

export interface ChatOptions {
  engine?: FakeEngineOptions;
  /** A real engine instead of the scripted one. */
  engineClient?: EngineClient;
  plans?: Record<string, LoadPlan>;
  flags?: Partial<Settings>;
  args?: Partial<ChatAppOptions['args']>;
  /** The directories of an earlier run, to start Parley a second time on them. */
  dirs?: ChatDirs;
}

/** The whole chat UI (controller, commands, screen) on a scripted engine in temporary directories. */
export async function startChat(options: ChatOptions = {}) {
  const dirs = options.dirs ?? (await makeDirs());
  const engine = new UiFakeEngine({ delayMs: 1, ...options.engine }, options.plans);
  const store = new SessionStore(dirs.sessions);
  /** What /copy put on the clipboard (through the terminal, in a real run). */
  const clipboard: string[] = [];
  const { element, controller } = await prepareChatApp({
    args: { offline: false, resume: false, ...options.args },
    flags: { model: 'gpt2', ...options.flags },
    stored: {},
    store,
    cacheDir: dirs.root,
    engine: options.engineClient ?? engine,
    env: dirs.env,
    copyToClipboard: (text) => {
      clipboard.push(text);
      return 'terminal';
    },
  });
  const ui = render(element);
  controller.start();
  const frame = (): string => ui.lastFrame() ?? '';
  const type = async (...chunks: string[]): Promise<void> => {
    for (const chunk of chunks) {
      ui.stdin.write(chunk);
      // Lets Ink hand over a lone ESC before the next chunk arrives.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return {
    ui,
    engine,
    store,
    controller,
    dirs,
    clipboard,
    frame,
    type,
    /** Types a line and Enter. */
    send: (line: string): Promise<void> => type(line, KEYS.enter),
    waitFor: (expected: string | RegExp, timeoutMs?: number): Promise<string> => waitForFrame(frame, expected, timeoutMs),
    /** How often `text` is on screen (transcript included). */
    count: (text: string): number => frame().split(text).length - 1,
    /** Narrows or widens the terminal, as a resize would. */
    resize: (columns: number): void => {
      Object.defineProperty(ui.stdout, 'columns', { value: columns, configurable: true });
      ui.stdout.emit('resize');
    },
  };
}

export type Chat = Awaited<ReturnType<typeof startChat>>;
