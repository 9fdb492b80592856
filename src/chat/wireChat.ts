// Builds the chat from parts that each own one concern (view store, settings layers,
// session keeper, context meter, model slot, turn runner, questions) and connects them:
// what one part reports, another acts on.
import { homedir } from 'node:os';
import type { EngineClient } from '../engine/engineClient.js';
import type { ModelInfo } from '../engine/protocol.js';
import { canonicalModelRef, DEMO_MODEL, MODEL_ALIASES } from '../engine/load/modelRefs.js';
import { PERSONA_PRESETS } from '../prompt/personas.js';
import type { SessionStore } from '../session/sessionStore.js';
import type { SessionsDirSource } from '../session/sessionsDir.js';
import type { SettingsStore } from '../settings/settingsFile.js';
import { samplingParams } from '../settings/settingsPrecedence.js';
import type { Settings } from '../settings/settingsSchema.js';
import type { Session } from '../session/types.js';
import type { ChatContext, ClipboardRoute } from './chatContext.js';
import { ChatSettings } from './chatSettings.js';
import { ContextMeter } from './contextMeter.js';
import { MessageQueue } from './messageQueue.js';
import { modelLabel } from './modelLabel.js';
import { loadedNotices } from './modelNotices.js';
import { ModelSlot } from './modelSlot.js';
import { markdownInEffect } from './markdownMode.js';
import { PromptFormats } from './promptFormats.js';
import { Questions } from './questions.js';
import { runReported } from './reported.js';
import { replyEnded } from './sendMessage.js';
import { SessionKeeper } from './sessionKeeper.js';
import { TurnRunner } from './turnRunner.js';
import { UnsavedGuard } from './unsavedSession.js';
import { emptyStatus, statusInfo } from './view/statusInfo.js';
import { noticeItem, turnItems, type TranscriptItem } from './view/transcriptItems.js';
import { ViewStore } from './view/viewStore.js';
import { counted } from '../text/format.js';

export interface ChatInput {
  engine: EngineClient;
  session: Session;
  /** Settings from command-line flags; they win over the session's until changed in the chat. */
  flags: Partial<Settings>;
  /** Settings from the settings file. */
  stored: Partial<Settings>;
  /** Where `--global` writes; null when the settings file cannot be used. */
  settings: SettingsStore | null;
  store: SessionStore;
  /** Where the sessions folder came from (--sessions-dir, PARLEY_SESSIONS_DIR, the setting, the default). */
  sessionsDirSource?: SessionsDirSource;
  /** Puts text on the clipboard through the terminal; null when there is no terminal to do it. */
  copyToClipboard?: (text: string) => ClipboardRoute | null;
  offline: boolean;
  historyFile: string;
  /** Lines shown before anything else (e.g. "no session to resume"). */
  greeting?: string[];
  /** The slash commands' names, for Tab completion. */
  commandNames: readonly string[];
  /**
   * Wipes the terminal before the transcript is printed anew (/clear, /load). It must
   * happen before the re-render, or it would wipe the freshly printed transcript too.
   */
  clearTerminal?: () => void;
  now?: () => Date;
  /** Markdown replies may use colours (false under NO_COLOR); bold and italic stay either way. */
  colors?: boolean;
}

export function wireChat(input: ChatInput): ChatContext {
  const { engine, store } = input;
  const settings = new ChatSettings(input.flags, input.stored);
  const refreshStatus = (): void => {
    view.update({
      status: statusInfo(engine.model, slot.label, {
        tokensUsed: meter.tokensUsed,
        params: samplingParams(chat.effective().values),
        sessionName: keeper.session.name,
        tokensPerSecond: turns.tokensPerSecond,
        turnsOutOfContext: meter.turnsOut,
        unsaved: keeper.unsaved !== null,
      }),
      markdown: markdownOn(),
    });
  };
  const view = new ViewStore(
    {
      transcript: [],
      transcriptEpoch: 0,
      live: null,
      held: [],
      queued: [],
      loading: null,
      status: emptyStatus(input.session.name, samplingParams(settings.layered(input.session).values)),
      confirm: null,
      choice: null,
      inputRequest: null,
      editorRequest: null,
      completionSources: { model: [], session: [], persona: [], command: [] },
      exitRequested: false,
      markdown: false,
    },
    input.clearTerminal,
  );
  const notice = view.notice.bind(view);
  const questions = new Questions(view, (action) => runReported(view, action));
  const queue = new MessageQueue(view);
  const formats = new PromptFormats(engine, notice);
  const keeper = new SessionKeeper({
    store,
    session: input.session,
    modelRef: () => chat.storedModelRef(),
    onSaveError: (message) => notice(message, 'error'),
    onChange: refreshStatus,
  });
  const meter = new ContextMeter({
    engine,
    format: () => chat.format(),
    session: () => keeper.session,
    maxNewTokens: () => chat.effective().values.maxNewTokens,
    paused: () => turns.streaming,
    onChange: refreshStatus,
  });
  const slot = new ModelSlot({
    engine,
    view,
    offline: input.offline,
    loadOptions: (ref) => {
      const { values, sources } = chat.effective();
      // A dtype the session remembers belongs to the session's model, not to another one.
      const dtypeIsDefault =
        sources.dtype === 'default' ||
        (sources.dtype === 'session' && canonicalModelRef(ref, process.cwd(), homedir()) !== keeper.session.model);
      return { dtype: values.dtype, dtypeIsDefault, noConvert: !values.convert };
    },
    onReady: (ref, model, how) => modelReady(ref, model, how),
    onFailed: () => modelFailed(),
    onChange: refreshStatus,
  });
  const turns: TurnRunner = new TurnRunner({
    engine,
    view,
    keeper,
    meter,
    modelWait: () => slot.waitReason,
    format: () => chat.format(),
    counter: () => meter.counter(),
    params: () => samplingParams(chat.effective().values),
    modelRef: () => chat.storedModelRef(),
    markdown: () => markdownOn(),
    colors: input.colors ?? true,
    putInInput: (text) => questions.putInInput(text),
    onChange: refreshStatus,
    onSettled: (outcome) => {
      void keeper.autosave();
      void meter.refresh();
      replyEnded(chat, outcome);
    },
  });
  const unsaved = new UnsavedGuard({
    keeper,
    questions,
    notice,
    onSavedAs: (name) => {
      notice(`Saved session ${name} to ${store.pathOf(name)}.`);
      void chat.refreshCompletionSources();
    },
  });

  const chat: ChatContext = {
    engine,
    store,
    settingsFile: input.settings,
    sessionsDirSource: input.sessionsDirSource ?? 'default',
    copyToClipboard: input.copyToClipboard ?? (() => null),
    historyFile: input.historyFile,
    view,
    settings,
    keeper,
    meter,
    slot,
    turns,
    queue,
    questions,
    unsaved,
    now: input.now ?? (() => new Date()),
    effective: () => settings.effective(keeper.session, engine.model),
    format: () => {
      const { userName, assistantName } = chat.effective().values;
      // A template's "today" is the session's first day, so a resumed session keeps its prefix.
      return formats.current({ user: userName, assistant: assistantName }, { date: new Date(keeper.session.createdAt) });
    },
    storedModelRef: () => {
      const ref = slot.ref;
      return ref === null ? null : canonicalModelRef(ref, process.cwd(), homedir());
    },
    setSession: (session) => {
      keeper.set(session);
      void meter.refresh();
    },
    replaceSession: (session, intro) => {
      keeper.replace(session);
      turns.tokensPerSecond = null;
      chat.reprint([noticeItem(intro), ...turnItems(keeper.session.conversation.turns)]);
      void meter.refresh();
      void chat.refreshCompletionSources();
    },
    reprint: (transcript) => {
      view.reprint(transcript);
      refreshStatus();
    },
    refreshStatus,
    refreshCompletionSources: async () => {
      let sessions: string[] = [];
      try {
        sessions = (await store.list()).map((e) => e.name);
      } catch {
        // An unreadable sessions folder only means no session names to complete.
      }
      view.update({
        completionSources: {
          model: [...Object.keys(MODEL_ALIASES), DEMO_MODEL],
          session: sessions,
          persona: PERSONA_PRESETS.map((p) => p.name),
          command: [...input.commandNames],
        },
      });
    },
  };

  function markdownOn(): boolean {
    return markdownInEffect(chat.effective().values.markdown, engine.model);
  }

  function modelReady(ref: string, model: ModelInfo, how: 'loaded' | 'restarted'): void {
    const printedAsMarkdown = view.getState().markdown;
    keeper.change((session) => ({ ...session, model: chat.storedModelRef(), dtype: model.dtype }));
    if (how === 'restarted') {
      notice(`The engine is back: model ${modelLabel(ref)} ready.`);
    } else {
      const session = keeper.session;
      const budget = settings.replyBudget(session, model);
      const asked = settings.layered(session, model).values.maxNewTokens;
      for (const { text, tone } of loadedNotices(ref, model, budget, asked)) notice(text, tone);
    }
    refreshStatus();
    // A resumed conversation is printed before its model is known (Markdown off while the
    // setting is auto); once the model decides, its replies are printed the way new ones look.
    const { transcript } = view.getState();
    if (markdownOn() !== printedAsMarkdown && transcript.some((item) => item.kind === 'turn' && item.turn.role === 'assistant')) {
      view.reprint([...transcript]);
    }
    if (!turns.modelReady()) void meter.refresh();
  }

  /** No model is on its way any more; a waiting message goes to the model in use, if any. */
  function modelFailed(): void {
    if (!turns.waiting) return;
    if (engine.model) {
      notice(`Your message goes to ${slot.label ?? 'the model in use'}.`);
      turns.modelReady();
    } else if (turns.giveUpWaiting()) {
      notice('Your message is kept: load a model with /model, then /retry to get a reply.');
      replyEnded(chat, 'failed');
    }
  }

  refreshStatus();
  const greeting = (input.greeting ?? []).map((line) => noticeItem(line, 'warning'));
  view.update({ transcript: [...greeting, ...introItems(keeper.session)] });
  void chat.refreshCompletionSources();
  return chat;
}

function introItems(session: Session): TranscriptItem[] {
  const turns = session.conversation.turns.length;
  const intro =
    turns > 0
      ? `Parley · session ${session.name} resumed (${counted(turns, 'turn')}) · /help for commands`
      : `Parley · session ${session.name} · /help for commands · Esc stops a reply · Ctrl+C twice exits`;
  return [noticeItem(intro), ...turnItems(session.conversation.turns)];
}
