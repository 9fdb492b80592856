// The chat behind the screen: the session, the model, replies, the context count and
// autosave. It holds the ViewState the App renders and changes it only through `update`,
// so React sees every change (useSyncExternalStore). Slash commands live in
// commandHandlers.ts and act through the public methods here.
import { homedir } from 'node:os';
import type { EngineClient } from '../engine/engineClient.js';
import type { SamplingParams } from '../engine/protocol.js';
import { canonicalModelRef, DEMO_MODEL, MODEL_ALIASES } from '../engine/modelRefs.js';
import { chatTurn, type ChatTurnResult } from '../session/chatTurn.js';
import { buildWindow, type ContextWindow } from '../session/contextWindow.js';
import { addUser, awaitsReply, undo } from '../session/conversation.js';
import { PERSONA_PRESETS } from '../session/personas.js';
import { formatFor, type PromptFormat } from '../session/promptFormat.js';
import { saveSession, type SessionStore } from '../session/sessionStore.js';
import type { SettingsStore } from '../session/settings.js';
import { effectiveSettings, samplingParams, sessionLayer, type EffectiveSettings } from '../session/settingsPrecedence.js';
import { checkMaxNewTokens, type Settings } from '../session/settingsSchema.js';
import { TokenCountCache, type CountTokens } from '../session/tokenCountCache.js';
import type { Session } from '../session/types.js';
import type { ChatModel } from './App.js';
import type { ChatCommands } from './commands/chatCommands.js';
import { COMMANDS } from './commands/commandTable.js';
import { parseSlashCommand } from './commands/parseSlashCommand.js';
import { errorMessage, loadFailureLines } from './loadFailure.js';
import { startLoading, withProgress } from './loadingProgress.js';
import { modelLabel } from './modelLabel.js';
import { TokenBatcher } from './tokenBatcher.js';
import { REPLY_INDENT, settleLines } from './replyLines.js';
import { noticeItem, replyEndItem, replyLinesItem, turnItem, type NoticeTone, type TranscriptItem } from './transcriptItems.js';
import type { ViewState } from './viewState.js';

/** How long typing must pause before the context is counted again. */
const DRAFT_COUNT_DELAY_MS = 150;

export interface ChatControllerInput {
  engine: EngineClient;
  session: Session;
  /** Settings from command-line flags; they win over the session's until changed in the chat. */
  flags: Partial<Settings>;
  /** Settings from the settings file. */
  stored: Partial<Settings>;
  /** Where `--global` writes; null when the settings file cannot be used. */
  settings: SettingsStore | null;
  store: SessionStore;
  offline: boolean;
  historyFile: string;
  /** Lines shown before anything else (e.g. "no session to resume"). */
  greeting?: string[];
  /** Builds the slash-command handlers; they act on this controller. */
  commands: (chat: ChatController) => ChatCommands;
  /**
   * Wipes the terminal before the transcript is printed anew (/clear, /load). It must
   * happen before the re-render, or it would wipe the freshly printed transcript too.
   */
  clearTerminal?: () => void;
}

export class ChatController implements ChatModel {
  readonly engine: EngineClient;
  readonly store: SessionStore;
  readonly settings: SettingsStore | null;
  readonly historyFile: string;
  private readonly offline: boolean;
  private readonly commands: ChatCommands;
  private readonly clearTerminal: () => void;
  private flags: Partial<Settings>;
  private stored: Partial<Settings>;
  private current: Session;
  private view: ViewState;
  private readonly listeners = new Set<() => void>();

  private activeRef: string | null = null;
  private loadSeq = 0;
  private waitingForModel = false;
  private turn: Promise<void> | null = null;
  private abort: AbortController | null = null;
  private readonly tokenCache = new TokenCountCache();
  private draft = '';
  private draftTimer: NodeJS.Timeout | null = null;
  private contextSeq = 0;
  private confirmAction: (() => Promise<void> | void) | null = null;
  private inputSeq = 0;
  private saving: Promise<void> = Promise.resolve();
  private lastSaveError: string | null = null;
  private tokensUsed: number | null = null;
  private turnsOut = 0;
  private tokensPerSecond: number | null = null;

  /** Columns the reply text has on screen, until the screen says (setReplyWidth). */
  private replyWidth = 80 - REPLY_INDENT;

  constructor(input: ChatControllerInput) {
    this.engine = input.engine;
    this.store = input.store;
    this.settings = input.settings;
    this.historyFile = input.historyFile;
    this.offline = input.offline;
    this.clearTerminal = input.clearTerminal ?? (() => undefined);
    this.flags = { ...input.flags };
    this.stored = { ...input.stored };
    this.current = input.session;
    this.view = {
      transcript: [],
      transcriptEpoch: 0,
      live: null,
      loading: null,
      status: this.statusInfo(),
      confirm: null,
      inputRequest: null,
      completionSources: { model: [], session: [], persona: [], command: [] },
      exitRequested: false,
    };
    this.commands = input.commands(this);
    const greeting = (input.greeting ?? []).map((line) => noticeItem(line, 'warning'));
    this.update({ transcript: [...greeting, ...this.introItems()] });
    this.engine.onCrash((message) =>
      this.notice(`The model engine stopped unexpectedly (${message}); it restarts and reloads the model.`, 'warning'),
    );
    void this.refreshCompletionSources();
  }

  // ---- ChatModel (what the screen calls) -------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ViewState => this.view;

  /** Loads the model the settings name; call once the screen is up. */
  start(): void {
    void this.loadModel(this.effective().values.model);
  }

  submit(text: string): void {
    const parsed = parseSlashCommand(text, COMMANDS);
    if (parsed.kind === 'message') {
      this.sendMessage(parsed.text);
      return;
    }
    this.update({ transcript: [...this.view.transcript, noticeItem(`› ${text}`)] });
    if (parsed.kind === 'unknown') {
      const hint = parsed.suggestion ? ` Did you mean /${parsed.suggestion}?` : '';
      this.notice(`Unknown command /${parsed.name}.${hint} /help lists the commands.`, 'error');
      return;
    }
    this.runReported(() => parsed.command.run(this.commands, parsed.args));
  }

  stop(): void {
    if (this.waitingForModel) {
      // The message has not reached the model: take it back into the input box.
      this.waitingForModel = false;
      const last = this.current.conversation.turns.at(-1);
      const undone = undo(this.current.conversation);
      if (undone && last) {
        this.setSession({ ...this.current, conversation: undone });
        this.putInInput(last.text);
      }
      this.update({ live: null });
      this.notice('Not sent; your message is back in the input box.');
      return;
    }
    this.abort?.abort();
  }

  answer(yes: boolean): void {
    const action = this.confirmAction;
    this.confirmAction = null;
    this.update({ confirm: null });
    if (!yes || !action) {
      this.notice('Cancelled.');
      return;
    }
    this.runReported(action);
  }

  /** Runs a command's action off the key handler; a failure becomes a one-line error notice. */
  private runReported(action: () => Promise<void> | void): void {
    void Promise.resolve()
      .then(action)
      .catch((error: unknown) => this.notice(errorMessage(error), 'error'));
  }

  draftChanged(text: string): void {
    if (text === this.draft) return;
    this.draft = text;
    if (this.draftTimer) clearTimeout(this.draftTimer);
    this.draftTimer = setTimeout(() => {
      this.draftTimer = null;
      void this.refreshContext();
    }, DRAFT_COUNT_DELAY_MS);
  }

  setReplyWidth(columns: number): void {
    this.replyWidth = Math.max(1, columns);
  }

  clearScreen(): void {
    this.reprintWith([]);
  }

  async exit(): Promise<void> {
    if (this.draftTimer) clearTimeout(this.draftTimer);
    // A reply in progress is stopped and kept, then everything is saved.
    this.abort?.abort();
    await this.turn;
    await this.autosave();
  }

  // ---- What commands build on -------------------------------------------------------

  get session(): Session {
    return this.current;
  }

  get activeModelRef(): string | null {
    return this.activeRef;
  }

  /** The model in use as a session remembers it: folders absolute, so they work from anywhere. */
  get storedModelRef(): string | null {
    return this.activeRef === null ? null : canonicalModelRef(this.activeRef, process.cwd(), homedir());
  }

  get busy(): boolean {
    return this.turn !== null || this.waitingForModel;
  }

  effective(): EffectiveSettings {
    return effectiveSettings({ flags: this.flags, session: sessionLayer(this.current), settings: this.stored });
  }

  format(): PromptFormat | null {
    const model = this.engine.model;
    if (!model) return null;
    const { userName, assistantName } = this.effective().values;
    return formatFor(model, { user: userName, assistant: assistantName });
  }

  /** The model's token counter, through the cache. */
  counter(): CountTokens | null {
    const model = this.engine.model;
    if (!model) return null;
    return this.tokenCache.counter(model.modelId, (texts) => this.engine.countTokens(texts));
  }

  notice(text: string, tone: NoticeTone = 'info'): void {
    this.update({ transcript: [...this.view.transcript, noticeItem(text, tone)] });
  }

  setSession(session: Session): void {
    this.current = session;
    this.update({ status: this.statusInfo() });
    void this.refreshContext();
  }

  /** A sampling value chosen in the chat: it goes into the session and wins over the flag. */
  setSamplingValue<K extends keyof SamplingParams>(key: K, value: SamplingParams[K]): void {
    const flags = { ...this.flags };
    delete flags[key];
    this.flags = flags;
    this.setSession({ ...this.current, params: { ...this.current.params, [key]: value } });
  }

  setStoredValue<K extends keyof Settings>(key: K, value: Settings[K]): void {
    this.stored = { ...this.stored, [key]: value };
    this.update({ status: this.statusInfo() });
  }

  /** Swaps in another session (/new, /load): the screen shows its transcript anew. */
  replaceSession(session: Session, intro: string): void {
    this.current = session;
    this.tokensPerSecond = null;
    this.reprintWith([noticeItem(intro), ...this.turnItems()]);
    void this.refreshContext();
    void this.refreshCompletionSources();
  }

  /** Shows the conversation anew after turns were removed (/undo, /edit). */
  reprint(note: string): void {
    this.reprintWith([...this.turnItems(), noticeItem(note)]);
  }

  ask(question: string, onYes: () => Promise<void> | void): void {
    this.confirmAction = onYes;
    this.update({ confirm: question });
  }

  putInInput(text: string): void {
    this.inputSeq++;
    this.update({ inputRequest: { text, seq: this.inputSeq } });
  }

  requestExit(): void {
    this.update({ exitRequested: true });
  }

  /** Loads a model in the background; a failure keeps the model in use. */
  async loadModel(ref: string): Promise<void> {
    const seq = ++this.loadSeq;
    this.update({ loading: startLoading(ref) });
    const { dtype, convert } = this.effective().values;
    try {
      await this.engine.load(ref, { dtype, offline: this.offline, noConvert: !convert }, (progress) => {
        if (seq === this.loadSeq && this.view.loading) this.update({ loading: withProgress(this.view.loading, progress) });
      });
    } catch (error) {
      if (seq !== this.loadSeq) return;
      const current = this.engine.model ? this.activeRef : null;
      this.update({ loading: null });
      for (const line of loadFailureLines(ref, error, current, this.offline)) this.notice(line, 'error');
      if (this.waitingForModel && !this.engine.model) {
        this.waitingForModel = false;
        this.update({ live: null });
        this.notice('Your message is kept: load a model, then /retry to get a reply.');
      }
      return;
    }
    if (seq !== this.loadSeq) return;
    this.modelLoaded(ref);
  }

  /** Generates a reply to the conversation, which ends with a user turn. */
  regenerate(): void {
    if (this.loading()) {
      this.waitingForModel = true;
      this.update({ live: { text: '', waitingForModel: true } });
      return;
    }
    this.turn = this.runTurn().finally(() => {
      this.turn = null;
      void this.autosave();
      void this.refreshContext();
    });
  }

  async refreshContext(): Promise<void> {
    const seq = ++this.contextSeq;
    const model = this.engine.model;
    const counter = this.counter();
    const format = this.format();
    // The engine is busy while it generates; the count is taken when the reply is done.
    if (!model || !counter || !format || this.turn) return;
    const conversation = awaitsReply(this.current.conversation)
      ? this.current.conversation
      : addUser(this.current.conversation, this.draft, { id: 'draft' });
    let window: ContextWindow | null = null;
    try {
      window = await buildWindow(conversation, {
        contextLength: model.contextLength,
        maxNewTokens: this.effective().values.maxNewTokens,
        countTokens: counter,
        format,
        start: this.current.windowStart ?? null,
      });
    } catch {
      // The limits are wrong for this model (max tokens too big); commands say so.
    }
    if (seq !== this.contextSeq) return;
    this.tokensUsed = window?.promptTokens ?? null;
    this.turnsOut = window?.droppedCount ?? 0;
    this.update({ status: this.statusInfo() });
  }

  async refreshCompletionSources(): Promise<void> {
    let sessions: string[] = [];
    try {
      sessions = (await this.store.list()).map((e) => e.name);
    } catch {
      // An unreadable sessions folder only means no session names to complete.
    }
    this.update({
      completionSources: {
        model: [...Object.keys(MODEL_ALIASES), DEMO_MODEL],
        session: sessions,
        persona: PERSONA_PRESETS.map((p) => p.name),
        command: COMMANDS.map((c) => c.name),
      },
    });
  }

  /**
   * Runs a file operation on the session after the saves before it, so an explicit /save
   * or rename never races an autosave with the same revision.
   */
  serialized<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.saving.then(operation);
    this.saving = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Saves when there is something to save; a failure is reported, never thrown. */
  async autosave(): Promise<void> {
    const run = async (): Promise<void> => {
      const session = this.current;
      if (session.revision === 0 && session.conversation.turns.length === 0) return;
      const result = await saveSession(this.store, { ...session, model: this.storedModelRef ?? session.model });
      if (!result.ok) {
        if (result.error.message !== this.lastSaveError) this.notice(result.error.message, 'error');
        this.lastSaveError = result.error.message;
        return;
      }
      this.lastSaveError = null;
      // The session may have changed while it was written; only the file's bookkeeping is new.
      if (this.current.name === session.name) {
        this.current = { ...this.current, revision: result.session.revision, updatedAt: result.session.updatedAt };
      }
    };
    await this.serialized(run);
  }

  // ---- Internals ----------------------------------------------------------------------

  private update(patch: Partial<ViewState>): void {
    this.view = { ...this.view, ...patch };
    for (const listener of this.listeners) listener();
  }

  private reprintWith(transcript: TranscriptItem[]): void {
    this.clearTerminal();
    this.update({ transcript, transcriptEpoch: this.view.transcriptEpoch + 1, status: this.statusInfo() });
  }

  private loading(): boolean {
    return this.view.loading !== null;
  }

  private sendMessage(text: string): void {
    if (this.busy) {
      this.notice('A message is already waiting for a reply; Esc takes it back.', 'warning');
      return;
    }
    const conversation = addUser(this.current.conversation, text);
    this.current = { ...this.current, conversation };
    this.update({ transcript: [...this.view.transcript, turnItem(conversation.turns.at(-1)!)] });
    if (!this.engine.model && !this.loading()) {
      this.notice('No model is loaded: load one with /model, then /retry to get a reply.', 'error');
      return;
    }
    this.regenerate();
  }

  private modelLoaded(ref: string): void {
    const model = this.engine.model;
    this.activeRef = ref;
    this.update({ loading: null });
    if (!model) return;
    this.current = { ...this.current, model: this.storedModelRef, dtype: model.dtype };
    this.notice(`Model ${modelLabel(ref)} ready (${model.dtype}, ${model.contextLength} tokens of context).`);
    if (model.randomWeights) this.notice('This model has random weights: its replies are noise.', 'warning');
    if (model.graph && !model.graph.converted) this.notice(`Running ${model.graph.note}.`, 'warning');
    else if (model.graph?.convertedNow) this.notice(`Runs on ${model.graph.note}.`);
    const limitError = checkMaxNewTokens(this.effective().values.maxNewTokens, model.contextLength);
    if (limitError) this.notice(`${limitError}; lower it with /max-tokens.`, 'warning');
    this.update({ status: this.statusInfo() });
    if (this.waitingForModel) {
      this.waitingForModel = false;
      this.regenerate();
    } else {
      void this.refreshContext();
    }
  }

  private async runTurn(): Promise<void> {
    const format = this.format();
    const counter = this.counter();
    if (!format || !counter) return;
    const values = this.effective().values;
    const abort = new AbortController();
    this.abort = abort;
    this.update({ live: { text: '', waitingForModel: false } });
    let streamed = false;
    const batcher = new TokenBatcher((text) => {
      if (!this.view.live) return;
      streamed = true;
      // Lines that can no longer change go to the transcript; the live area keeps the last one.
      const { lines, rest } = settleLines(this.view.live.text + text, this.replyWidth);
      this.update({
        live: { ...this.view.live, text: rest },
        ...(lines.length > 0 ? { transcript: [...this.view.transcript, replyLinesItem(lines)] } : {}),
      });
    });
    let result: ChatTurnResult | null = null;
    try {
      const events = chatTurn({
        engine: this.engine,
        session: this.current,
        params: samplingParams(values),
        format,
        countTokens: counter,
        signal: abort.signal,
      });
      for await (const event of events) {
        if (event.type === 'window') {
          this.tokensUsed = event.window.promptTokens;
          this.turnsOut = event.window.droppedCount;
          this.update({ status: this.statusInfo() });
        } else if (event.type === 'delta') {
          batcher.push(event.text);
        } else {
          result = event.result;
        }
      }
    } finally {
      batcher.drain();
      this.abort = null;
    }
    this.finishTurn(result, streamed ? (this.view.live?.text ?? '') : null);
  }

  /** `streamedRest`: the reply's last line when it was streamed, its earlier lines already shown. */
  private finishTurn(result: ChatTurnResult | null, streamedRest: string | null): void {
    const items: TranscriptItem[] = [];
    if (result) {
      this.current = { ...result.session, model: this.storedModelRef ?? result.session.model };
      if (result.reply) {
        const interrupted = result.reply.meta?.interrupted ?? false;
        items.push(streamedRest === null ? turnItem(result.reply) : replyEndItem(streamedRest, interrupted));
        this.tokensPerSecond = result.reply.meta?.tokensPerSecond ?? this.tokensPerSecond;
      }
      if (result.error) items.push(noticeItem(`The reply failed: ${result.error}. /retry tries again.`, 'error'));
      else if (!result.reply && result.interrupted) items.push(noticeItem('Stopped before the first word; /retry asks again.'));
    }
    this.update({ live: null, transcript: [...this.view.transcript, ...items], status: this.statusInfo() });
  }

  private turnItems(): TranscriptItem[] {
    return this.current.conversation.turns.map(turnItem);
  }

  private introItems(): TranscriptItem[] {
    const turns = this.current.conversation.turns.length;
    const intro =
      turns > 0
        ? `Parley · session ${this.current.name} resumed (${turns} turns) · /help for commands`
        : `Parley · session ${this.current.name} · /help for commands · Esc stops a reply · Ctrl+C twice exits`;
    return [noticeItem(intro), ...this.turnItems()];
  }

  private statusInfo(): ViewState['status'] {
    const { values } = this.effective();
    const model = this.engine.model;
    return {
      model: this.activeRef === null ? null : modelLabel(this.activeRef),
      dtype: model?.dtype ?? null,
      randomWeights: model?.randomWeights ?? false,
      tokensUsed: this.tokensUsed,
      contextLength: model?.contextLength ?? null,
      params: samplingParams(values),
      sessionName: this.current.name,
      tokensPerSecond: this.tokensPerSecond,
      turnsOutOfContext: this.turnsOut,
    };
  }
}
