// The App's keyboard handling against a stub chat model: editing, sending, history, paste.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import { App } from '../../src/ui/App.js';
import type { ChatModel } from '../../src/chat/chatModel.js';
import { COMMANDS } from '../../src/chat/commands/commandTable.js';
import { noticeItem } from '../../src/chat/view/transcriptItems.js';
import type { ViewState } from '../../src/chat/view/viewState.js';
import { KEYS, waitForFrame } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

afterEach(() => cleanup());

class StubChat implements ChatModel {
  submitted: string[] = [];
  stops = 0;
  exits = 0;
  answers: boolean[] = [];
  private listeners = new Set<() => void>();
  state: ViewState = {
    transcript: [],
    transcriptEpoch: 0,
    live: null,
    held: [],
    queued: [],
    loading: null,
    status: {
      model: 'gpt2',
      dtype: 'fp32',
      randomWeights: false,
      tokensUsed: 10,
      contextLength: 1024,
      params: { temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens: 64, seed: null },
      sessionName: 'stub',
      tokensPerSecond: null,
      turnsOutOfContext: 0,
    },
    confirm: null,
    choice: null,
    inputRequest: null,
    editorRequest: null,
    completionSources: { model: ['gpt2', 'distilgpt2'], session: [], persona: [], command: [] },
    exitRequested: false,
    markdown: false,
  };
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  getState = (): ViewState => this.state;
  update(patch: Partial<ViewState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }
  submit(text: string): void {
    this.submitted.push(text);
    this.update({ transcript: [...this.state.transcript, noticeItem(`got ${JSON.stringify(text)}`)] });
  }
  stop(): void {
    this.stops++;
  }
  unqueue(): void {}
  redraw(): void {}
  report(): void {}
  choose(): void {}
  answer(yes: boolean): void {
    this.answers.push(yes);
  }
  draftChanged(): void {}
  clearScreen(): void {}
  setReplyWidth(): void {}
  async exit(): Promise<boolean> {
    this.exits++;
    return true;
  }
}

function renderStub(history: string[] = []) {
  const chat = new StubChat();
  const recorded: string[] = [];
  const ui = render(<App chat={chat} commands={COMMANDS} history={history} onHistoryEntry={(t) => recorded.push(t)} />);
  return { chat, recorded, ...ui };
}

const type = async (stdin: { write(data: string): void }, ...chunks: string[]): Promise<void> => {
  for (const chunk of chunks) {
    stdin.write(chunk);
    // Let Ink flush a pending lone ESC before the next chunk.
    await new Promise((resolve) => setImmediate(resolve));
  }
};

test('typing, editing keys and Enter', async () => {
  const { chat, stdin, lastFrame, recorded } = renderStub();
  await type(stdin, 'hello world', KEYS.ctrlW, 'there', KEYS.home, 'X', KEYS.end, '!', KEYS.left, KEYS.backspace, KEYS.right);
  await waitForFrame(lastFrame, 'Xhello ther!');
  await type(stdin, KEYS.ctrlA, KEYS.delete, KEYS.enter);
  await waitForFrame(lastFrame, 'got "hello ther!"');
  assert.deepEqual(chat.submitted, ['hello ther!']);
  assert.deepEqual(recorded, ['hello ther!']);
  await type(stdin, 'gone', KEYS.ctrlU);
  await waitUntil(
    () => lastFrame() ?? '',
    (f) => !f.includes('gone'),
  );
});

test('multi-line input: paste, backslash-Enter and Alt+Enter keep one message', async () => {
  const { chat, stdin, lastFrame } = renderStub();
  await type(stdin, KEYS.pasteStart, 'line one\rline two\r', KEYS.pasteEnd, 'three\\', KEYS.enter, 'four', KEYS.altEnter, 'five');
  await waitForFrame(lastFrame, 'five');
  await type(stdin, KEYS.enter);
  await waitUntil(
    () => chat.submitted.length,
    (n) => n === 1,
  );
  assert.deepEqual(chat.submitted, ['line one\nline two\nthree\nfour\nfive']);
});

test('history with up and down restores the draft', async () => {
  const { stdin, lastFrame } = renderStub(['first', 'second']);
  await type(stdin, 'draft', KEYS.up);
  await waitForFrame(lastFrame, '› second');
  await type(stdin, KEYS.up);
  await waitForFrame(lastFrame, '› first');
  await type(stdin, KEYS.down, KEYS.down);
  await waitForFrame(lastFrame, '› draft');
});

test('Tab completes command names and lists several matches', async () => {
  const { stdin, lastFrame } = renderStub();
  await type(stdin, '/mo', KEYS.tab);
  await waitForFrame(lastFrame, '› /model');
  await type(stdin, 'd', KEYS.tab);
  await waitForFrame(lastFrame, '› /model distilgpt2');
  await type(stdin, KEYS.ctrlU, '/s', KEYS.tab);
  await waitForFrame(lastFrame, 'save  seed  sessions  settings  show  stats  system');
});

test('Ctrl+C at an empty prompt asks for a second press; Ctrl+C clears typed text first', async () => {
  const { chat, stdin, lastFrame } = renderStub();
  await type(stdin, 'abc', KEYS.ctrlC);
  await waitUntil(
    () => lastFrame() ?? '',
    (f) => !f.includes('abc'),
  );
  assert.equal(chat.exits, 0);
  await type(stdin, KEYS.ctrlC);
  await waitForFrame(lastFrame, 'Press Ctrl+C again to exit');
  await type(stdin, 'x', KEYS.backspace, KEYS.ctrlC);
  assert.equal(chat.exits, 0);
  await type(stdin, KEYS.ctrlC);
  await waitUntil(
    () => chat.exits,
    (n) => n === 1,
  );
});

test('Ctrl+D at an empty prompt exits', async () => {
  const { chat, stdin } = renderStub();
  await type(stdin, KEYS.ctrlD);
  await waitUntil(
    () => chat.exits,
    (n) => n === 1,
  );
});

test('Esc and Ctrl+C stop a reply being generated', async () => {
  const { chat, stdin, lastFrame } = renderStub();
  chat.update({ live: { text: 'partial', waitingForModel: false } });
  await waitForFrame(lastFrame, 'partial');
  await type(stdin, KEYS.escape);
  await waitUntil(
    () => chat.stops,
    (n) => n === 1,
  );
  await type(stdin, KEYS.ctrlC);
  await waitUntil(
    () => chat.stops,
    (n) => n === 2,
  );
  assert.equal(chat.exits, 0);
});

test('a confirmation question is answered by the next line', async () => {
  const { chat, stdin, lastFrame } = renderStub();
  chat.update({ confirm: 'Delete session "x"?' });
  await waitForFrame(lastFrame, 'Delete session "x"? (y/N)');
  await type(stdin, 'y', KEYS.enter);
  await waitUntil(
    () => chat.answers,
    (a) => a.length === 1,
  );
  assert.deepEqual(chat.answers, [true]);
  assert.deepEqual(chat.submitted, []);
});
