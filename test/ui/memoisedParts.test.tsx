// The parts of the screen that do not change while a reply streams are memoised, so a frame
// re-renders only the reply: each must still show a change of its props at once.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import type { StatusInfo } from '../../src/chat/view/statusInfo.js';
import { editorWith } from '../../src/ui/inputEditing.js';
import { InputBox } from '../../src/ui/InputBox.js';
import { LiveReply } from '../../src/ui/LiveReply.js';
import { HeldNotices, QueuedMessages } from '../../src/ui/QueuedMessages.js';
import { StatusBar } from '../../src/ui/StatusBar.js';

afterEach(() => cleanup());

const INFO: StatusInfo = {
  model: 'gpt2',
  dtype: 'q8',
  randomWeights: false,
  tokensUsed: 10,
  contextLength: 1024,
  params: { temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens: 64, seed: null },
  sessionName: 'notes',
  tokensPerSecond: null,
  turnsOutOfContext: 0,
};

test('the status bar shows new figures as soon as they change', () => {
  const ui = render(<StatusBar info={INFO} />);
  assert.match(ui.lastFrame() ?? '', /10\/1024 tokens/);
  ui.rerender(<StatusBar info={INFO} />);
  assert.match(ui.lastFrame() ?? '', /10\/1024 tokens/);
  ui.rerender(<StatusBar info={{ ...INFO, tokensUsed: 250, tokensPerSecond: 12.5 }} />);
  assert.match(ui.lastFrame() ?? '', /250\/1024 tokens/);
  assert.match(ui.lastFrame() ?? '', /12\.5 tok\/s/);
});

test('the input box shows its new text and dims while a reply streams', () => {
  const ui = render(<InputBox editor={editorWith('first')} dimmed={false} placeholder="" />);
  assert.match(ui.lastFrame() ?? '', /› first/);
  ui.rerender(<InputBox editor={editorWith('second draft')} dimmed={true} placeholder="" />);
  assert.match(ui.lastFrame() ?? '', /› second draft/);
});

test('the live reply and the queue show each change', () => {
  const ui = render(<LiveReply text="Hello" waitingForModel={false} />);
  assert.match(ui.lastFrame() ?? '', /Hello[\s\S]*Esc stops the reply/);
  ui.rerender(<LiveReply text="Hello there" waitingForModel={false} queued />);
  assert.match(ui.lastFrame() ?? '', /Hello there/);
  assert.doesNotMatch(ui.lastFrame() ?? '', /Esc stops/);
  const queue = render(<QueuedMessages queued={['one']} />);
  queue.rerender(<QueuedMessages queued={['one', 'two']} />);
  assert.match(queue.lastFrame() ?? '', /queued: one[\s\S]*queued: two/);
});

test('the parts around the reply are memoised components', () => {
  // A frame re-renders the screen; React then skips every memoised part whose props are the same objects.
  const memo = Symbol.for('react.memo');
  for (const [name, component] of Object.entries({ InputBox, StatusBar, LiveReply, QueuedMessages, HeldNotices })) {
    assert.equal((component as unknown as { $$typeof: symbol }).$$typeof, memo, `${name} is memoised`);
  }
});
