// The chat behind the screen, wired from parts that each own one concern (src/chat): the
// view store the screen renders, the model slot, the turn runner, the session keeper and
// the context meter. Slash commands live in commandHandlers.ts and act through the public
// methods here.
import { homedir } from 'node:os';
import type { EngineClient } from '../engine/engineClient.js';
import type { ModelInfo, SamplingParams } from '../engine/protocol.js';
import { canonicalModelRef, DEMO_MODEL, MODEL_ALIASES } from '../engine/modelRefs.js';
import { addUser } from '../prompt/conversation.js';
import { PERSONA_PRESETS } from '../prompt/personas.js';
import type { PromptFormat } from '../prompt/promptFormat.js';
import type { SessionStore } from '../session/sessionStore.js';
import type { SettingsStore } from '../settings/settingsFile.js';
import { samplingParams, type EffectiveSettings } from '../settings/settingsPrecedence.js';
import type { Settings } from '../settings/settingsSchema.js';
import type { CountTokens } from '../prompt/tokenCountCache.js';
import type { Session } from '../session/types.js';
import type { ChatModel } from '../chat/chatModel.js';
import { ContextMeter } from '../chat/contextMeter.js';
import { ModelSlot } from '../chat/modelSlot.js';
import { ChatSettings } from '../chat/chatSettings.js';
import { PromptFormats } from '../chat/promptFormats.js';
import { Questions } from '../chat/questions.js';
import { UnsavedGuard } from '../chat/unsavedSession.js';
import { SessionKeeper } from '../chat/sessionKeeper.js';
import { TurnRunner } from '../chat/turnRunner.js';
import { ViewStore } from '../chat/viewStore.js';
import type { ChatCommands } from './commands/chatCommands.js';
import { COMMANDS } from './commands/commandTable.js';
import { parseSlashCommand } from './commands/parseSlashCommand.js';

import { modelLabel } from './modelLabel.js';
import { noticeItem, turnItem, type NoticeTone, type TranscriptItem } from './transcriptItems.js';
import type { ViewState } from './viewState.js';
import { errorLine } from '../errors.js';

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
  private readonly commands: ChatCommands;
  private readonly settingLayers: ChatSettings;
  private readonly view: ViewStore;
  private readonly keeper: SessionKeeper;
  private readonly meter: ContextMeter;
  private readonly slot: ModelSlot;
  private readonly turns: TurnRunner;
  private readonly questions: Questions;
  private readonly unsaved: UnsavedGuard;
  private readonly formats: PromptFormats;
  /** The user chose to leave although the session is not saved. */
  private leaveUnsaved = false;

  constructor(input: ChatControllerInput) {
    this.engine = input.engine;
    this.store = input.store;
    this.settings = input.settings;
    this.historyFile = input.historyFile;
    this.settingLayers = new ChatSettings(input.flags, input.stored);
    const statusChanged = (): void => this.refreshStatus();
    this.view = new ViewStore(
      {
        transcript: [],
        transcriptEpoch: 0,
        live: null,
        loading: null,
        status: emptyStatus(input.session, this.settingLayers.layered(input.session).values),
        confirm: null,
        choice: null,
        inputRequest: null,
        completionSources: { model: [], session: [], persona: [], command: [] },
        exitRequested: false,
      },
      input.clearTerminal,
    );
    const runReported = (action: () => Promise<void> | void): void => this.runReported(action);
    this.questions = new Questions(this.view, runReported);
    this.formats = new PromptFormats(this.engine, (text, tone) => this.notice(text, tone));
    this.keeper = new SessionKeeper({
      store: input.store,
      session: input.session,
      modelRef: () => this.storedModelRef,
      onSaveError: (message) => this.notice(message, 'error'),
      onChange: statusChanged,
    });
    this.meter = new ContextMeter({
      engine: this.engine,
      format: () => this.format(),
      session: () => this.keeper.session,
      maxNewTokens: () => this.effective().values.maxNewTokens,
      paused: () => this.turns.streaming,
      onChange: statusChanged,
    });
    this.slot = new ModelSlot({
      engine: this.engine,
      view: this.view,
      offline: input.offline,
      loadOptions: (ref) => {
        const { values, sources } = this.effective();
        // A dtype the session remembers belongs to the session's model, not to another one.
        const dtypeIsDefault =
          sources.dtype === 'default' ||
          (sources.dtype === 'session' && canonicalModelRef(ref, process.cwd(), homedir()) !== this.session.model);
        return { dtype: values.dtype, dtypeIsDefault, noConvert: !values.convert };
      },
      onReady: (ref, model, how) => this.modelReady(ref, model, how),
      onFailed: () => this.modelFailed(),
      onChange: statusChanged,
    });
    this.turns = new TurnRunner({
      engine: this.engine,
      view: this.view,
      keeper: this.keeper,
      meter: this.meter,
      modelWait: () => this.slot.waitReason,
      format: () => this.format(),
      counter: () => this.counter(),
      params: () => samplingParams(this.effective().values),
      modelRef: () => this.storedModelRef,
      putInInput: (text) => this.putInInput(text),
      onChange: statusChanged,
      onSettled: () => {
        void this.autosave();
        void this.refreshContext();
      },
    });
    this.unsaved = new UnsavedGuard({
      keeper: this.keeper,
      questions: this.questions,
      notice: (text, tone) => this.notice(text, tone),
      onSavedAs: (name) => {
        this.notice(`Saved session ${name} to ${this.store.pathOf(name)}.`);
        void this.refreshCompletionSources();
      },
    });
    this.refreshStatus();
    this.commands = input.commands(this);
    const greeting = (input.greeting ?? []).map((line) => noticeItem(line, 'warning'));
    this.view.update({ transcript: [...greeting, ...this.introItems()] });
    void this.refreshCompletionSources();
  }

  // ---- ChatModel (what the screen calls) -------------------------------------------

  subscribe = (listener: () => void): (() => void) => this.view.subscribe(listener);

  getState = (): ViewState => this.view.getState();

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
    this.view.notice(`› ${text}`);
    if (parsed.kind === 'unknown') {
      const hint = parsed.suggestion ? ` Did you mean /${parsed.suggestion}?` : '';
      this.notice(`Unknown command /${parsed.name}.${hint} /help lists the commands.`, 'error');
      return;
    }
    this.runReported(() => parsed.command.run(this.commands, parsed.args));
  }

  stop(): void {
    this.turns.stop();
  }

  answer(yes: boolean): void {
    this.questions.answer(yes);
  }

  choose(text: string): void {
    this.questions.choose(text);
  }

  draftChanged(text: string): void {
    this.meter.draftChanged(text);
  }

  setReplyWidth(columns: number): void {
    this.turns.setReplyWidth(columns);
  }

  clearScreen(): void {
    this.reprintWith([]);
  }

  async exit(): Promise<boolean> {
    // A reply in progress is stopped and kept, then everything is saved.
    await this.turns.finish();
    await this.autosave();
    if (this.keeper.unsaved === null || this.leaveUnsaved) {
      this.meter.dispose();
      return true;
    }
    this.view.update({ exitRequested: false });
    this.unsaved.ask('leaving', () => {
      this.leaveUnsaved = true;
      this.requestExit();
    });
    return false;
  }

  /** Leaves without asking (a signal, a fatal error): stops a reply, saves, and says how that went. */
  async shutdown(): Promise<number> {
    this.meter.dispose();
    await this.turns.finish();
    await this.autosave();
    return this.exitCode;
  }

  /** 0 when the session is saved, 1 when its last save failed. */
  get exitCode(): number {
    return this.keeper.unsaved === null ? 0 : 1;
  }

  /** Why the session is not saved, or null. */
  get unsavedReason(): string | null {
    return this.keeper.unsaved;
  }

  // ---- What commands build on -------------------------------------------------------

  get session(): Session {
    return this.keeper.session;
  }

  get activeModelRef(): string | null {
    return this.slot.ref;
  }

  /** The model in use as a session remembers it: folders absolute, so they work from anywhere. */
  get storedModelRef(): string | null {
    const ref = this.slot.ref;
    return ref === null ? null : canonicalModelRef(ref, process.cwd(), homedir());
  }

  get busy(): boolean {
    return this.turns.busy;
  }

  /** The settings in effect, with the reply length fitted to the model in use. */
  effective(): EffectiveSettings {
    return this.settingLayers.effective(this.keeper.session, this.engine.model);
  }

  /** The model's prompt format; the transcript when its chat template fails. */
  format(): PromptFormat | null {
    const { userName, assistantName } = this.effective().values;
    // A template's "today" is the session's first day, so a resumed session keeps its prefix.
    return this.formats.current({ user: userName, assistant: assistantName }, { date: new Date(this.session.createdAt) });
  }

  /** The model's token counter, through the cache. */
  counter(): CountTokens | null {
    return this.meter.counter();
  }

  notice(text: string, tone: NoticeTone = 'info'): void {
    this.view.notice(text, tone);
  }

  setSession(session: Session): void {
    this.keeper.set(session);
    void this.refreshContext();
  }

  /** An explicit save (/save) succeeded. */
  sessionSaved(name: string, revision: number, updatedAt: string): void {
    this.keeper.saved(name, revision, updatedAt);
  }

  /** A sampling value chosen in the chat: it goes into the session and wins over the flag. */
  setSamplingValue<K extends keyof SamplingParams>(key: K, value: SamplingParams[K]): void {
    this.settingLayers.forgetFlag(key);
    this.setSession({ ...this.session, params: { ...this.session.params, [key]: value } });
  }

  setStoredValue<K extends keyof Settings>(key: K, value: Settings[K]): void {
    this.settingLayers.setStored(key, value);
    this.refreshStatus();
  }

  /** Runs `action`, which drops the session in use (/new, /load), once it is saved or the user says. */
  leaveSession(what: string, action: () => Promise<void> | void): Promise<void> {
    return this.unsaved.leave(what, action);
  }

  /** Swaps in another session (/new, /load): the screen shows its transcript anew. */
  replaceSession(session: Session, intro: string): void {
    this.keeper.replace(session);
    this.turns.tokensPerSecond = null;
    this.reprintWith([noticeItem(intro), ...this.turnItems()]);
    void this.refreshContext();
    void this.refreshCompletionSources();
  }

  /** Shows the conversation anew after turns were removed (/undo, /edit). */
  reprint(note: string): void {
    this.reprintWith([...this.turnItems(), noticeItem(note)]);
  }

  ask(question: string, onYes: () => Promise<void> | void): void {
    this.questions.ask(question, onYes);
  }

  putInInput(text: string): void {
    this.questions.putInInput(text);
  }

  requestExit(): void {
    this.view.update({ exitRequested: true });
  }

  /** Loads a model in the background; a failure keeps the model in use. */
  loadModel(ref: string): Promise<void> {
    return this.slot.load(ref);
  }

  /** Generates a reply to the conversation, which ends with a user turn. */
  regenerate(): void {
    this.turns.start();
  }

  refreshContext(): Promise<void> {
    return this.meter.refresh();
  }

  async refreshCompletionSources(): Promise<void> {
    let sessions: string[] = [];
    try {
      sessions = (await this.store.list()).map((e) => e.name);
    } catch {
      // An unreadable sessions folder only means no session names to complete.
    }
    this.view.update({
      completionSources: {
        model: [...Object.keys(MODEL_ALIASES), DEMO_MODEL],
        session: sessions,
        persona: PERSONA_PRESETS.map((p) => p.name),
        command: COMMANDS.map((c) => c.name),
      },
    });
  }

  serialized<T>(operation: () => Promise<T>): Promise<T> {
    return this.keeper.serialized(operation);
  }

  autosave(): Promise<void> {
    return this.keeper.autosave();
  }

  // ---- Wiring -------------------------------------------------------------------------

  /** Runs a command's action off the key handler; a failure becomes a one-line error notice. */
  private runReported(action: () => Promise<void> | void): void {
    void Promise.resolve()
      .then(action)
      .catch((error: unknown) => this.notice(errorLine(error), 'error'));
  }

  private reprintWith(transcript: TranscriptItem[]): void {
    this.view.reprint(transcript);
    this.refreshStatus();
  }

  private sendMessage(text: string): void {
    if (this.turns.streaming) {
      // The text stays the user's: back into the input box, to send once the reply is done.
      this.putInInput(text);
      this.notice('A reply is on its way: wait for the reply or press Esc.', 'warning');
      return;
    }
    if (this.busy) {
      this.notice('A message is already waiting for a reply; Esc takes it back.', 'warning');
      return;
    }
    this.keeper.change((session) => ({ ...session, conversation: addUser(session.conversation, text) }));
    this.view.append(turnItem(this.session.conversation.turns.at(-1)!));
    if (!this.engine.model && this.slot.waitReason === null) {
      this.notice('No model is loaded: load one with /model, then /retry to get a reply.', 'error');
      return;
    }
    this.regenerate();
  }

  private modelReady(ref: string, model: ModelInfo, how: 'loaded' | 'restarted'): void {
    this.keeper.change((session) => ({ ...session, model: this.storedModelRef, dtype: model.dtype }));
    if (how === 'restarted') {
      this.notice(`The engine is back: model ${modelLabel(ref)} ready.`);
    } else {
      // A server's model has no dtype here: where it runs is what is true of it.
      const what = model.endpoint
        ? `Model ${model.endpoint.name} on ${new URL(model.endpoint.url).host} ready (${model.contextLength} tokens of context).`
        : `Model ${modelLabel(ref)} ready (${model.dtype}, ${model.contextLength} tokens of context).`;
      this.notice(what);
      if (model.randomWeights) this.notice('This model has random weights: its replies are noise.', 'warning');
      if (model.graph && !model.graph.converted) this.notice(`Running ${model.graph.note}.`, 'warning');
      else if (model.graph?.convertedNow) this.notice(`Runs on ${model.graph.note}.`);
      const budget = this.settingLayers.replyBudget(this.session, model);
      if (budget.lowered) {
        const asked = this.settingLayers.layered(this.session).values.maxNewTokens;
        this.notice(
          `max tokens ${asked} does not fit ${modelLabel(ref)} (${model.contextLength} tokens of context): using ${budget.maxNewTokens} with it.`,
          'warning',
        );
      }
    }
    this.refreshStatus();
    if (!this.turns.modelReady()) void this.refreshContext();
  }

  /** No model is on its way any more; a waiting message goes to the model in use, if any. */
  private modelFailed(): void {
    if (!this.turns.waiting) return;
    if (this.engine.model) {
      this.notice(`Your message goes to ${this.slot.label ?? 'the model in use'}.`);
      this.turns.modelReady();
    } else if (this.turns.giveUpWaiting()) {
      this.notice('Your message is kept: load a model with /model, then /retry to get a reply.');
    }
  }

  private turnItems(): TranscriptItem[] {
    return this.session.conversation.turns.map(turnItem);
  }

  private introItems(): TranscriptItem[] {
    const session = this.session;
    const turns = session.conversation.turns.length;
    const intro =
      turns > 0
        ? `Parley · session ${session.name} resumed (${turns} turns) · /help for commands`
        : `Parley · session ${session.name} · /help for commands · Esc stops a reply · Ctrl+C twice exits`;
    return [noticeItem(intro), ...this.turnItems()];
  }

  private refreshStatus(): void {
    const { values } = this.effective();
    const model = this.engine.model;
    this.view.update({
      status: {
        // On a server the name it serves the model by says it all; the host goes beside it.
        model: model?.endpoint ? model.endpoint.name : this.slot.label,
        dtype: model?.dtype ?? null,
        endpointHost: model?.endpoint ? new URL(model.endpoint.url).host : null,
        randomWeights: model?.randomWeights ?? false,
        tokensUsed: this.meter.tokensUsed,
        contextLength: model?.contextLength ?? null,
        params: samplingParams(values),
        sessionName: this.session.name,
        tokensPerSecond: this.turns.tokensPerSecond,
        turnsOutOfContext: this.meter.turnsOut,
        unsaved: this.keeper.unsaved !== null,
      },
    });
  }
}

function emptyStatus(session: Session, values: Settings): ViewState['status'] {
  return {
    model: null,
    dtype: null,
    randomWeights: false,
    tokensUsed: null,
    contextLength: null,
    params: samplingParams(values),
    sessionName: session.name,
    tokensPerSecond: null,
    turnsOutOfContext: 0,
  };
}
