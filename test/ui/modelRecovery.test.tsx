// Model switches racing each other and engine crashes, through the real UI on the scripted
// engine whose loads the test settles by hand.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from 'ink-testing-library';
import { EngineError } from '../../src/engine/engineClient.js';
import { startChat, type Chat } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

afterEach(() => cleanup());

async function manual(tokens = [' fine']): Promise<Chat> {
  const chat = await startChat({ engine: { manualLoads: true, fallback: { tokens } } });
  await settle(chat, 'gpt2', 'resolve');
  await chat.waitFor('Model gpt2 ready');
  return chat;
}

/** Settles the pending load of `ref`. */
async function settle(chat: Chat, ref: string, how: 'resolve' | 'fail'): Promise<void> {
  const load = await waitUntil(() => chat.engine.pendingLoads.find((p) => p.modelRef === ref), Boolean, 3000, `a load of ${ref}`);
  if (how === 'resolve') load!.resolve();
  else load!.fail(new EngineError('model-corrupt', `${ref} is broken`));
}

const statusLine = (chat: Chat): string =>
  chat
    .frame()
    .split('\n')
    .filter((l) => l.includes('tokens') || l.includes('temp'))
    .join(' ');

test('a failed switch while a message waits for it: the message goes to the model still in use', async () => {
  const chat = await manual([' from', ' gpt2']);
  await chat.send('/model slow');
  await chat.waitFor('loading slow');
  await chat.send('hello');
  await chat.waitFor('waiting for the model to load');
  await settle(chat, 'slow', 'fail');
  await chat.waitFor('Still using gpt2.');
  await chat.waitFor('from gpt2');
  assert.equal(chat.controller.session.conversation.turns.at(-1)?.text, 'from gpt2');
});

test('two quick switches, the first finishes and the second fails: the UI names the model the engine runs', async () => {
  const chat = await manual();
  await chat.send('/model model-a');
  await chat.send('/model model-b');
  await settle(chat, 'model-a', 'resolve');
  await settle(chat, 'model-b', 'fail');
  await chat.waitFor('Still using model-a.');
  await waitUntil(
    () => statusLine(chat),
    (s) => s.includes('model-a fp32'),
    3000,
    'model-a in the status bar',
  );
  assert.equal(chat.engine.model?.modelId, 'model-a');
  assert.equal(chat.controller.chat.slot.ref, 'model-a');
});

test('two quick switches, the second fails first and then the first finishes: the UI follows the engine', async () => {
  const chat = await manual();
  await chat.send('/model model-a');
  await chat.send('/model model-b');
  await settle(chat, 'model-b', 'fail');
  await chat.waitFor('Still using gpt2.');
  await settle(chat, 'model-a', 'resolve');
  await chat.waitFor('Model model-a ready');
  await waitUntil(
    () => statusLine(chat),
    (s) => s.includes('model-a fp32'),
    3000,
    'model-a in the status bar',
  );
  assert.equal(chat.controller.chat.slot.ref, 'model-a');
});

test('a crash in the middle of a reply ends it, the engine comes back, and the next message is answered', async () => {
  const chat = await startChat({ engine: { scripts: [{ tokens: Array(300).fill(' w'), delayMs: 10 }, { tokens: [' back', ' again'] }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('talk');
  await chat.waitFor('w w w');
  chat.engine.crash('worker exited with code 134');
  await chat.waitFor('The model engine stopped unexpectedly: the engine crashed (worker exited with code 134); restarting it.');
  await chat.waitFor('The reply failed: the engine crashed');
  await chat.waitFor('The engine is back: model gpt2 ready.');
  await chat.send('again');
  await chat.waitFor('back again');
});

test('a message sent while the engine restarts waits for it and is sent once it is back', async () => {
  const chat = await manual([' after', ' restart']);
  void chat.engine.crash('worker exited with code 1');
  await chat.waitFor('The model engine stopped unexpectedly');
  await chat.send('are you there');
  await chat.waitFor('the engine is restarting…');
  assert.ok(!chat.frame().includes('No model is loaded'));
  await settle(chat, 'gpt2', 'resolve');
  await chat.waitFor('after restart');
  assert.equal(chat.engine.calls.length, 1);
});

test('a failed reload is reported, and a waiting message is kept for /retry', async () => {
  const chat = await manual();
  void chat.engine.crash('worker exited with code 1');
  await chat.send('hello?');
  await chat.waitFor('the engine is restarting…');
  await settle(chat, 'gpt2', 'fail');
  await chat.waitFor('The engine could not load the model again: gpt2 is broken');
  await chat.waitFor('Your message is kept: load a model with /model, then /retry to get a reply.');
  assert.equal(chat.controller.session.conversation.turns.at(-1)?.text, 'hello?');
});

test('an engine given up after repeated crashes says so; /model starts it again', async () => {
  const chat = await startChat({ engine: { fallback: { tokens: [' ok'] } } });
  await chat.waitFor('Model gpt2 ready');
  const stopped = 'the engine crashed 4 times within a minute, so it is stopped; /model loads a model and starts it again';
  void chat.engine.crash('worker exited with code 1', new EngineError('crashed', stopped));
  await chat.waitFor(`The engine could not load the model again: ${stopped}`);
  await chat.waitFor('no model');
  await chat.send('/model gpt2');
  await chat.waitFor('Model gpt2 ready');
  await chat.send('hi');
  await chat.waitFor(' ok');
});
