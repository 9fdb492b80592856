// The parts the chat controller wires, each on its own: view store, session keeper,
// context meter, model slot and turn runner, on the scripted engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChatSettings } from '../../src/chat/chatSettings.js';
import { ContextMeter } from '../../src/chat/contextMeter.js';
import { Questions } from '../../src/chat/questions.js';
import { ModelSlot } from '../../src/chat/modelSlot.js';
import { SessionKeeper } from '../../src/chat/sessionKeeper.js';
import { TurnRunner } from '../../src/chat/turnRunner.js';
import { ViewStore } from '../../src/chat/view/viewStore.js';
import { EngineError } from '../../src/engine/engineClient.js';
import { addUser, setPersona } from '../../src/prompt/conversation.js';
import { formatFor } from '../../src/prompt/promptFormat.js';
import { newSession, SessionStore } from '../../src/session/sessionStore.js';
import { DEFAULT_SETTINGS } from '../../src/settings/settingsSchema.js';
import { samplingParams } from '../../src/settings/settingsPrecedence.js';
import type { Session } from '../../src/session/types.js';
import type { ViewState } from '../../src/chat/view/viewState.js';
import { FakeEngine } from '../helpers/fakeEngine.js';
import { waitUntil } from '../helpers/waitFor.js';

function emptyView(): ViewState {
  return {
    transcript: [],
    transcriptEpoch: 0,
    live: null,
    held: [],
    queued: [],
    loading: null,
    status: {
      model: null,
      dtype: null,
      randomWeights: false,
      tokensUsed: null,
      contextLength: null,
      params: samplingParams(DEFAULT_SETTINGS),
      sessionName: 's',
      tokensPerSecond: null,
      turnsOutOfContext: 0,
    },
    confirm: null,
    choice: null,
    inputRequest: null,
    editorRequest: null,
    completionSources: { model: [], session: [], persona: [], command: [] },
    exitRequested: false,
    markdown: false,
  };
}

const texts = (view: ViewStore): string[] =>
  view.getState().transcript.map((item) => (item.kind === 'notice' ? item.text : item.kind === 'turn' ? item.turn.text : item.kind));

async function tempStore(): Promise<{ store: SessionStore; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-parts-'));
  return { store: new SessionStore(dir), dir };
}

test('view store: listeners hear every update; reprint clears first and bumps the epoch', () => {
  const cleared: number[] = [];
  const view = new ViewStore(emptyView(), () => cleared.push(view.getState().transcriptEpoch));
  let heard = 0;
  const unsubscribe = view.subscribe(() => heard++);
  view.notice('one');
  view.append();
  view.reprint([]);
  assert.equal(heard, 2);
  assert.deepEqual(cleared, [0], 'the terminal is cleared before the new transcript is set');
  assert.equal(view.getState().transcriptEpoch, 1);
  unsubscribe();
  view.notice('two');
  assert.equal(heard, 2);
  assert.deepEqual(texts(view), ['two']);
});

test('session keeper: saves in order, keeps changes made while a save runs, reports a failure once', async () => {
  const { store, dir } = await tempStore();
  try {
    const errors: string[] = [];
    const keeper = new SessionKeeper({
      store,
      session: newSession('kept'),
      modelRef: () => 'gpt2',
      onSaveError: (message) => errors.push(message),
      onChange: () => undefined,
    });
    await keeper.autosave();
    assert.equal(await store.exists('kept'), false, 'an empty new session is not written');
    keeper.change((s) => ({ ...s, conversation: addUser(s.conversation, 'hello') }));
    const saving = keeper.autosave();
    keeper.change((s) => ({ ...s, conversation: setPersona(s.conversation, 'pirate') }));
    await saving;
    assert.equal(keeper.session.revision, 1);
    assert.equal(keeper.session.conversation.persona, 'pirate', 'a change made during the save survives it');
    assert.equal((await store.load('kept')).model, 'gpt2');
    // Another writer moves the file on: our next saves conflict, reported once.
    await store.save({ ...(await store.load('kept')) });
    await keeper.autosave();
    await keeper.autosave();
    assert.equal(errors.length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('context meter: counts the draft after a pause, not while paused, and shows a given window', async () => {
  const engine = new FakeEngine({ contextLength: 1024 });
  let session: Session = newSession('m');
  let paused = false;
  let changes = 0;
  const meter = new ContextMeter({
    engine,
    format: () => formatFor(engine.model!, { user: 'User', assistant: 'Assistant' }),
    session: () => session,
    maxNewTokens: () => 128,
    paused: () => paused,
    onChange: () => changes++,
  });
  await meter.refresh();
  const empty = meter.tokensUsed ?? 0;
  meter.draftChanged('a fairly long draft message of many characters');
  await waitUntil(
    () => meter.tokensUsed ?? 0,
    (n) => n > empty,
  );
  const withDraft = meter.tokensUsed;
  paused = true;
  session = { ...session, conversation: addUser(session.conversation, 'x'.repeat(400)) };
  await meter.refresh();
  assert.equal(meter.tokensUsed, withDraft, 'no count while the engine generates');
  meter.show({ promptTokens: 7, droppedCount: 2 } as Parameters<ContextMeter['show']>[0]);
  assert.deepEqual([meter.tokensUsed, meter.turnsOut], [7, 2]);
  assert.ok(changes >= 3);
  meter.dispose();
});

function slotOn(engine: FakeEngine) {
  const view = new ViewStore(emptyView());
  const events: string[] = [];
  const slot = new ModelSlot({
    engine,
    view,
    offline: false,
    loadOptions: () => ({ dtype: 'fp32', dtypeIsDefault: true }),
    onReady: (ref, _model, how) => events.push(`${how} ${ref}`),
    onFailed: () => events.push('failed'),
    onChange: () => undefined,
  });
  return { view, events, slot };
}

test('model slot: progress on screen while loading; a failure keeps the model in use', async () => {
  const engine = new FakeEngine({ manualLoads: true });
  const { view, events, slot } = slotOn(engine);
  const first = slot.load('gpt2');
  assert.equal(slot.waitReason, 'load');
  assert.ok(view.getState().loading);
  engine.pendingLoads[0]!.resolve();
  await first;
  assert.deepEqual([slot.label, slot.waitReason, view.getState().loading, events], ['gpt2', null, null, ['loaded gpt2']]);
  const broken = slot.load('./broken');
  engine.pendingLoads[0]!.fail(new EngineError('model-corrupt', 'bad file'));
  await broken;
  assert.deepEqual(events, ['loaded gpt2', 'failed']);
  assert.ok(texts(view).includes('Cannot load ./broken: bad file'));
  assert.ok(texts(view).includes('Still using gpt2.'));
  assert.equal(slot.label, 'gpt2');
});

for (const order of ['first load finishes, then the second fails', 'second load fails, then the first finishes'] as const) {
  test(`model slot: two quick switches, ${order}: the slot shows the engine's model`, async () => {
    const engine = new FakeEngine({ manualLoads: true });
    const { view, events, slot } = slotOn(engine);
    const start = slot.load('old');
    engine.pendingLoads[0]!.resolve();
    await start;
    const a = slot.load('model-a');
    const b = slot.load('model-b');
    const [loadA, loadB] = engine.pendingLoads;
    if (order === 'first load finishes, then the second fails') {
      loadA!.resolve();
      await a;
      assert.equal(slot.label, 'model-a', 'the engine runs model-a now');
      loadB!.fail(new EngineError('model-corrupt', 'broken'));
      await b;
      assert.ok(texts(view).includes('Still using model-a.'), texts(view).join('\n'));
      assert.deepEqual(events, ['loaded old', 'failed']);
    } else {
      loadB!.fail(new EngineError('model-corrupt', 'broken'));
      await b;
      assert.ok(texts(view).includes('Still using old.'));
      assert.equal(slot.waitReason, 'load', 'model-a is still on its way');
      loadA!.resolve();
      await a;
      assert.deepEqual(events, ['loaded old', 'loaded model-a']);
    }
    assert.equal(slot.label, 'model-a');
    assert.equal(engine.model?.modelId, 'model-a');
  });
}

test('model slot: a crash is reported; the engine reloads; a failed reload is reported', async () => {
  const engine = new FakeEngine();
  const { view, events, slot } = slotOn(engine);
  await slot.load('gpt2');
  const reload = engine.crash('worker exited with code 134');
  assert.equal(slot.waitReason, 'restart');
  await reload;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['loaded gpt2', 'restarted gpt2']);
  assert.equal(slot.waitReason, null);
  engine.crash('worker exited with code 134', new EngineError('crashed', 'it is stopped; /model starts it again'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events.at(-1), 'failed');
  assert.ok(texts(view).includes('The engine could not load the model again: it is stopped; /model starts it again'));
  assert.equal(slot.label, null);
});

test('turn runner: streams into the live area, stores the reply, Esc keeps the partial text', async () => {
  const engine = new FakeEngine({
    contextLength: 1024,
    scripts: [{ tokens: [' one', ' two'] }, { tokens: Array(200).fill(' w'), delayMs: 5 }],
  });
  const { store, dir } = await tempStore();
  try {
    const view = new ViewStore(emptyView());
    const keeper = new SessionKeeper({
      store,
      session: newSession('t'),
      modelRef: () => null,
      onSaveError: () => undefined,
      onChange: () => undefined,
    });
    const format = () => formatFor(engine.model!, { user: 'User', assistant: 'Assistant' });
    const meter = new ContextMeter({
      engine,
      format,
      session: () => keeper.session,
      maxNewTokens: () => 64,
      paused: () => false,
      onChange: () => undefined,
    });
    let settled = 0;
    const turns = new TurnRunner({
      engine,
      view,
      keeper,
      meter,
      modelWait: () => null,
      format,
      counter: () => meter.counter(),
      params: () => samplingParams(DEFAULT_SETTINGS),
      modelRef: () => null,
      putInInput: () => undefined,
      onChange: () => undefined,
      onSettled: () => settled++,
    });
    keeper.change((s) => ({ ...s, conversation: addUser(s.conversation, 'hi') }));
    turns.start();
    assert.equal(turns.streaming, true);
    await turns.settled();
    assert.equal(keeper.session.conversation.turns.at(-1)?.text, 'one two');
    assert.equal(view.getState().live, null);
    keeper.change((s) => ({ ...s, conversation: addUser(s.conversation, 'more') }));
    turns.start();
    await waitUntil(
      () => view.getState().live?.text ?? '',
      (t) => t.length > 4,
    );
    turns.stop();
    await turns.finish();
    const reply = keeper.session.conversation.turns.at(-1);
    assert.equal(reply?.meta?.interrupted, true);
    assert.equal(settled, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('turn runner: a turn result is applied to the session as it is now', async () => {
  const { withTurnResult } = await import('../../src/chat/turnRunner.js');
  const asked = { ...newSession('w'), conversation: addUser(newSession('w').conversation, 'q', { id: 'u1' }) };
  const reply = { id: 'r1', role: 'assistant' as const, text: 'a', createdAt: new Date(0).toISOString() };
  const result = {
    session: { ...asked, conversation: { ...asked.conversation, turns: [...asked.conversation.turns, reply] }, windowStart: 'u1' },
    reply,
    reason: 'eos' as const,
    interrupted: false,
    window: null,
  };
  const changed = { ...asked, params: { temperature: 0.2 }, conversation: setPersona(asked.conversation, 'p') };
  const applied = withTurnResult(changed, asked, result, 'gpt2');
  assert.deepEqual(
    applied.conversation.turns.map((t) => t.id),
    ['u1', 'r1'],
  );
  assert.equal(applied.params.temperature, 0.2);
  assert.equal(applied.conversation.persona, 'p');
  assert.equal(applied.windowStart, 'u1');
  assert.equal(applied.model, 'gpt2');
  assert.equal(withTurnResult(newSession('other'), asked, result, 'gpt2').conversation.turns.length, 0, 'another session is left alone');
});

test('questions: yes runs the action, anything else cancels; a choice gets the line; input requests count up', async () => {
  const view = new ViewStore(emptyView());
  const ran: string[] = [];
  const questions = new Questions(view, (action) => void action());
  questions.ask('Delete?', () => void ran.push('deleted'));
  assert.equal(view.getState().confirm, 'Delete?');
  questions.answer(false);
  assert.deepEqual([ran, view.getState().confirm, texts(view).at(-1)], [[], null, 'Cancelled.']);
  questions.ask('Delete?', () => void ran.push('deleted'));
  questions.answer(true);
  questions.askChoice('Which?', 'a / b', (text) => void ran.push(`chose ${text}`));
  assert.equal(view.getState().choice?.answers, 'a / b');
  questions.choose('b');
  assert.deepEqual(ran, ['deleted', 'chose b']);
  assert.equal(view.getState().choice, null);
  questions.putInInput('x');
  questions.putInInput('x');
  assert.equal(view.getState().inputRequest?.seq, 2);
});

test('chat settings: a flag wins until a chat value replaces it; the reply length follows the model', () => {
  const settings = new ChatSettings({ temperature: 0.1 }, { topK: 7 });
  const session = { ...newSession('s'), params: { temperature: 0.5 } };
  assert.equal(settings.layered(session).values.temperature, 0.1);
  settings.forgetFlag('temperature');
  assert.equal(settings.layered(session).values.temperature, 0.5);
  assert.equal(settings.layered(session).values.topK, 7);
  settings.setStored('topK', 9);
  assert.equal(settings.layered(session).values.topK, 9);
  const small = { ...new FakeEngine({ contextLength: 128 }).model! };
  assert.equal(settings.effective(session, small).values.maxNewTokens, 32);
  assert.equal(settings.effective(session, null).values.maxNewTokens, 128);
});

test('last resort: an uncaught error restores the terminal, saves, prints one line, exits 1, once', async () => {
  const { EventEmitter } = await import('node:events');
  const { installLastResort } = await import('../../src/ui/lastResort.js');
  const events = new EventEmitter();
  const steps: string[] = [];
  const exited = new Promise<number>((resolve) => {
    installLastResort({
      restoreTerminal: () => steps.push('restore'),
      save: async () => steps.push('save'),
      writeLine: (line) => steps.push(line),
      exit: resolve,
      events: events as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
    });
  });
  events.emit('unhandledRejection', new Error('template exploded\nwith a stack'));
  events.emit('uncaughtException', new Error('second'));
  assert.equal(await exited, 1);
  assert.deepEqual(steps, ['restore', 'save', 'parley: template exploded (the session was saved where it could be)']);
});
