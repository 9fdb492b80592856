// The instruct families on hub-style exports (test/fixtures/hf-qwen2-tiny, hf-llama-tiny):
// Qwen2 (ChatML, q/k/v biases) and Llama-3.2 (its official template, <|begin_of_text|>, an
// eos list), both with grouped-query attention, through the real worker engine.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { createEngine, type WorkerEngineClient } from '../../src/engine/worker/workerEngineClient.js';
import { EngineError } from '../../src/engine/engineClient.js';
import type { GenerateParams, GenerationStats, ModelInfo, SamplingParams } from '../../src/engine/protocol.js';
import { addUser, editLast, retry, undo } from '../../src/prompt/conversation.js';
import { chatTurn, type ChatTurnResult } from '../../src/chat/chatTurn.js';
import { formatFor } from '../../src/prompt/promptFormat.js';
import { newSession } from '../../src/session/sessionStore.js';
import type { Session } from '../../src/session/types.js';
import { HF_LLAMA_TINY, HF_QWEN2_TINY, publishedTemplate } from '../helpers/fixtures.js';
import { makeVariant } from '../helpers/fixtureVariants.js';
import { RecordingEngine } from '../helpers/recordingEngine.js';
import { generateIds } from '../helpers/generateIds.js';

const DAY = new Date('2026-03-05T12:00:00Z');
const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 8, seed: null };

interface Family {
  name: string;
  dir: string;
  /** What greedy decoding says first after "Hello" (random weights repeat one token). */
  greedy: { id: number; text: string };
  endOfTurn: { id: number; text: string };
  bos: number | null;
}

const FAMILIES: Family[] = [
  { name: 'qwen2', dir: HF_QWEN2_TINY, greedy: { id: 41039, text: ' Firstly' }, endOfTurn: { id: 50258, text: '<|im_end|>' }, bos: null },
  { name: 'llama', dir: HF_LLAMA_TINY, greedy: { id: 8123, text: ' Attorney' }, endOfTurn: { id: 50260, text: '<|eot_id|>' }, bos: 50257 },
];

const engines: WorkerEngineClient[] = [];
const scratch: string[] = [];
after(async () => {
  await Promise.all(engines.map((e) => e.dispose()));
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

async function engineFor(dir: string, prefixCache = true): Promise<{ engine: WorkerEngineClient; info: ModelInfo }> {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-instruct-'));
  scratch.push(cacheDir);
  const engine = createEngine({ cacheDir, prefixCache });
  engines.push(engine);
  const info = await engine.load(dir, { dtype: 'fp32', offline: true });
  return { engine, info };
}

async function reply(
  engine: RecordingEngine | WorkerEngineClient,
  session: Session,
  params: SamplingParams = GREEDY,
): Promise<ChatTurnResult> {
  const format = formatFor(engine.model!, undefined, { date: DAY });
  let result: ChatTurnResult | null = null;
  for await (const event of chatTurn({ engine, session, params, format })) if (event.type === 'done') result = event.result;
  assert.ok(result);
  return result;
}

const hello = (persona: string | null = null): Session => {
  const session = newSession('instruct', { persona });
  return { ...session, conversation: addUser(session.conversation, 'Hello') };
};

test('both exports load with their end ids, BOS and special tokens', async () => {
  const { info: qwen } = await engineFor(HF_QWEN2_TINY);
  // config.json says 50258; generation_config.json adds <|endoftext|>.
  assert.deepEqual(qwen.eosTokenIds, [50258, 50256]);
  assert.equal(qwen.bosToken ?? null, null, 'Qwen2 has no BOS');
  assert.deepEqual(qwen.chatTemplate?.specialTokens, ['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
  const { info: llama } = await engineFor(HF_LLAMA_TINY);
  assert.deepEqual(llama.eosTokenIds, [50260, 50256]);
  assert.equal(llama.bosToken, '<|begin_of_text|>', "Llama's tokenizer adds its BOS to plain text");
  assert.equal(llama.contextLength, 256);
});

for (const family of FAMILIES) {
  describe(family.name, () => {
    test('the prompt is the template over the whole window, with BOS once', async () => {
      const { engine, info } = await engineFor(family.dir);
      const format = formatFor(info, undefined, { date: DAY });
      const session = hello('Be brief.');
      const prompt = format.render('Be brief.', session.conversation.turns);
      const [ids] = await engine.tokenize([prompt]);
      if (family.bos === null) assert.equal(ids![0], 50257, 'ChatML opens with <|im_start|>');
      else {
        assert.equal(ids![0], family.bos);
        assert.notEqual(ids![1], family.bos, 'BOS is not doubled');
      }
      const result = await reply(engine, session);
      assert.equal(result.reason, 'length');
      assert.equal(result.reply?.text, family.greedy.text.repeat(GREEDY.maxNewTokens).trim());
      assert.equal(result.reply?.meta?.promptTokens, ids!.length);
    });

    test(`the reply stops at ${family.endOfTurn.text}, the template's end of turn, which is never shown`, async () => {
      // Only the template declares the marker: config, generation config and tokenizer name
      // <|endoftext|> as eos. The model is made to say the marker after one token.
      const variant = makeVariant(family.dir, {
        json: {
          'config.json': { eos_token_id: 50256 },
          'generation_config.json': { eos_token_id: 50256 },
          'tokenizer_config.json': { eos_token: '<|endoftext|>' },
          'special_tokens_map.json': { eos_token: '<|endoftext|>' },
        },
        row: { target: family.endOfTurn.id, like: family.greedy.id, scale: 1.05 },
      });
      try {
        const { engine, info } = await engineFor(variant.dir);
        assert.deepEqual(info.eosTokenIds, [50256]);
        const result = await reply(engine, hello(), { ...GREEDY, repetitionPenalty: 1.1 });
        assert.equal(result.reason, 'eos');
        assert.equal(result.reply?.text, family.greedy.text.trim());
        assert.equal(result.reply?.meta?.generatedTokens, 1);
      } finally {
        variant.remove();
      }
    });

    test('an empty prompt starts from BOS (or, without one, the first end id)', async () => {
      const { engine } = await engineFor(family.dir, false);
      const run = async (prompt: string): Promise<{ ids: number[]; done: GenerationStats }> => {
        const ids: number[] = [];
        let done: GenerationStats | null = null;
        for await (const e of engine.generate(prompt, { ...GREEDY, repetitionPenalty: 1.3, maxNewTokens: 6 })) {
          if (e.type === 'token' && e.tokenId >= 0) ids.push(e.tokenId);
          if (e.type === 'done') done = e;
        }
        assert.ok(done);
        return { ids, done };
      };
      const empty = await run('');
      assert.equal(empty.done.promptTokens, 1);
      const seed = family.bos === null ? '<|im_end|>' : '<|begin_of_text|>';
      assert.deepEqual(empty.ids, (await run(seed)).ids);
      if (family.bos !== null) assert.notDeepEqual(empty.ids, (await run(family.endOfTurn.text)).ids, 'not the first end id');
    });
  });
}

test("Qwen2: generation_config.json's eos list ends the reply (<|endoftext|> is only there)", async () => {
  const variant = makeVariant(HF_QWEN2_TINY, { row: { target: 50256, like: 41039, scale: 0.97 } });
  try {
    const { engine } = await engineFor(variant.dir);
    const result = await reply(engine, hello(), { ...GREEDY, repetitionPenalty: 1.1 });
    assert.equal(result.reason, 'eos');
    assert.equal(result.reply?.text, 'Firstly');
  } finally {
    variant.remove();
  }
});

const WORDS = ['hello', 'über', 'context', 'window', 'naïve', 'Qwen', 'Llama', 'tokens', 'why?', 'x', 'cache', '🙂', 'prefix'];
const message = (i: number): string => {
  const length = i % 6 === 4 ? 60 : 3 + ((i * 5) % 13);
  return Array.from({ length }, (_, j) => WORDS[(i * 7 + j * 5) % WORDS.length]).join(' ');
};
type Action = 'send' | 'retry' | 'undo' | 'edit';
const SCRIPT: Action[] = Array.from({ length: 18 }, (_, i) =>
  i === 0 ? 'send' : (['send', 'send', 'retry', 'send', 'undo', 'edit'] as const)[i % 6]!,
);

async function runScript(
  dir: string,
  prefixCache: boolean,
): Promise<{ replies: RecordingEngine['replies']; slides: number; texts: string[] }> {
  const { engine: worker } = await engineFor(dir, prefixCache);
  const engine = new RecordingEngine(worker);
  let session: Session = newSession('script', { persona: 'The assistant is brief.' });
  let slides = 0;
  const texts: string[] = [];
  for (const [i, action] of SCRIPT.entries()) {
    let conversation = session.conversation;
    if (action === 'send') conversation = addUser(conversation, message(i));
    else if (action === 'retry') conversation = retry(conversation)!;
    else if (action === 'undo') conversation = addUser(undo(conversation)!, message(i));
    else {
      const edited = editLast(conversation)!;
      conversation = addUser(edited.conversation, `${edited.text} (edited)`);
    }
    const result = await reply(engine, { ...session, conversation }, { ...GREEDY, maxNewTokens: 24, repetitionPenalty: i < 9 ? 1 : 1.3 });
    assert.notEqual(result.reason, 'error', `turn ${i}: ${result.error}`);
    assert.ok(result.window && result.window.promptTokens <= result.window.budget);
    if (result.window?.slid) slides++;
    texts.push(result.reply?.text ?? '');
    session = result.session;
  }
  return { replies: engine.replies, slides, texts };
}

for (const family of FAMILIES) {
  test(`${family.name}: greedy replies are the same with and without the prefix cache over a conversation that slides near the limit`, async () => {
    const without = await runScript(family.dir, false);
    const withCache = await runScript(family.dir, true);
    assert.ok(withCache.slides > 0, 'the 256-position window slid');
    assert.equal(withCache.slides, without.slides);
    assert.deepEqual(withCache.texts, without.texts);
    withCache.replies.forEach((r, i) => {
      assert.deepEqual(r.ids, without.replies[i]!.ids, `turn ${i} (${SCRIPT[i]})`);
      if (i > 0) assert.ok(r.stats.reusedTokens! > 0, `turn ${i} (${SCRIPT[i]}) reused nothing`);
    });
    // Near the limit: some prompt used most of the 256 - 24 budget.
    assert.ok(Math.max(...withCache.replies.map((r) => r.stats.promptTokens)) > 180);
  });
}

test('Esc during a reply stops it; the cache left behind is exact', async () => {
  const { engine: cached } = await engineFor(HF_LLAMA_TINY, true);
  const { engine: plain } = await engineFor(HF_LLAMA_TINY, false);
  const params: GenerateParams = { ...GREEDY, repetitionPenalty: 1.3, maxNewTokens: 20 };
  const run = (engine: WorkerEngineClient, prompt: string, cancelAfter = Infinity) => generateIds(engine, prompt, params, cancelAfter);
  const format = formatFor(cached.model!, undefined, { date: DAY });
  const prompt = format.render(null, [{ role: 'user', text: 'tell me about caches' }]);
  const stopped = await run(cached, prompt, 3);
  assert.equal(stopped.done.reason, 'cancelled');
  const next = format.render(null, [
    { role: 'user', text: 'tell me about caches' },
    { role: 'assistant', text: 'caches are fast' },
    { role: 'user', text: 'and then?' },
  ]);
  const withCache = await run(cached, next);
  const without = await run(plain, next);
  assert.ok(withCache.done.reusedTokens! > 0);
  assert.deepEqual(withCache.ids, without.ids);
});

test('a template that rewrites earlier turns (Mistral) is prefilled afresh every time', async () => {
  const variant = makeVariant(HF_QWEN2_TINY, {
    json: { 'tokenizer_config.json': { chat_template: publishedTemplate('mistralai-Mistral-Nemo-Instruct-2407') } },
  });
  try {
    const { engine: worker } = await engineFor(variant.dir);
    const engine = new RecordingEngine(worker);
    const first = await reply(engine, hello('Be brief.'));
    const second = await reply(engine, { ...first.session, conversation: addUser(first.session.conversation, 'And again?') });
    assert.equal(second.reason, 'length');
    assert.equal(engine.replies[1]!.stats.reusedTokens, 0);
  } finally {
    variant.remove();
  }
});

test('weights stored as external data (model.onnx + model.onnx_data) load and give the same reply', async () => {
  const variant = makeVariant(HF_QWEN2_TINY, { externalData: true });
  try {
    const { engine } = await engineFor(variant.dir);
    const result = await reply(engine, hello());
    assert.equal(result.reply?.text, 'Firstly'.concat(' Firstly'.repeat(GREEDY.maxNewTokens - 1)));
  } finally {
    variant.remove();
  }
});

test('without a dtype choice a folder loads the file it has and says which; a chosen dtype it lacks is refused', async () => {
  const variant = makeVariant(HF_QWEN2_TINY, { onnxName: 'model_quantized.onnx' });
  try {
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-instruct-'));
    scratch.push(cacheDir);
    const engine = createEngine({ cacheDir, prefixCache: false });
    engines.push(engine);
    const info = await engine.load(variant.dir, { dtype: 'fp32', dtypeIsDefault: true, offline: true });
    assert.equal(info.dtype, 'q8');
    await assert.rejects(engine.load(variant.dir, { dtype: 'fp32', offline: true }), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'model-file-missing');
      assert.match(err.message, /has no onnx\/model\.onnx \(needed for --dtype fp32\)/);
      return true;
    });
  } finally {
    variant.remove();
  }
});

test('an encoder-decoder model is refused in one line that says why', async () => {
  const variant = makeVariant(HF_QWEN2_TINY, { json: { 'config.json': { is_encoder_decoder: true, model_type: 't5' } } });
  try {
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-instruct-'));
    scratch.push(cacheDir);
    const engine = createEngine({ cacheDir, prefixCache: false });
    engines.push(engine);
    await assert.rejects(engine.load(variant.dir, { dtype: 'fp32', offline: true }), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'unsupported');
      assert.match(err.message, /cannot run this model: it is an encoder-decoder model \(t5\)/);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  } finally {
    variant.remove();
  }
});
