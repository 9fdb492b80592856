// A model's own sampling defaults (generation_config.json): read and checked, placed under
// every setting the user made and above Parley's, in the chat, `parley -p` and `parley serve`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { replyBudget } from '../../src/chat/replyBudget.js';
import { generationDefaults } from '../../src/engine/load/modelConfig.js';
import { planRequest } from '../../src/server/requestParams.js';
import { effectiveSettings, modelLayer, samplingParams } from '../../src/settings/settingsPrecedence.js';
import { DEFAULT_SETTINGS } from '../../src/settings/settingsSchema.js';
import { HF_QWEN2_TINY } from '../helpers/fixtures.js';

const qwenGeneration = JSON.parse(readFileSync(path.join(HF_QWEN2_TINY, 'generation_config.json'), 'utf8')) as Record<string, unknown>;

test("the Qwen2 fixture's generation_config.json gives Qwen2.5-Instruct's sampling values", () => {
  assert.deepEqual(generationDefaults(qwenGeneration), { temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05 });
});

test('generationDefaults keeps only sane numbers, and an explicit do_sample false means greedy', () => {
  assert.deepEqual(generationDefaults(null), {});
  assert.deepEqual(generationDefaults({ temperature: '0.7', top_k: 2.5, top_p: 3, repetition_penalty: 0, max_new_tokens: 0 }), {});
  assert.deepEqual(generationDefaults({ temperature: 0.6, do_sample: false, max_new_tokens: 512 }), { temperature: 0, maxNewTokens: 512 });
  assert.deepEqual(generationDefaults({ temperature: 0.6 }), { temperature: 0.6 }, 'no do_sample: the temperature stands');
});

test('precedence: flag > session > settings file > model > default, each with its source', () => {
  const model = modelLayer({ temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05, maxNewTokens: 300 });
  const onlyModel = effectiveSettings({ model });
  assert.deepEqual(samplingParams(onlyModel.values), {
    temperature: 0.7,
    topK: 20,
    topP: 0.8,
    repetitionPenalty: 1.05,
    maxNewTokens: 300,
    seed: null,
  });
  assert.equal(onlyModel.sources.temperature, 'model');
  assert.equal(onlyModel.sources.seed, 'default', 'the model says nothing of the seed');
  assert.equal(onlyModel.sources.userName, 'default');

  const layered = effectiveSettings({ flags: { topK: 5 }, session: { topP: 0.5 }, settings: { temperature: 0.2 }, model });
  assert.deepEqual(
    [layered.values.temperature, layered.values.topK, layered.values.topP, layered.values.repetitionPenalty],
    [0.2, 5, 0.5, 1.05],
  );
  assert.deepEqual(
    [layered.sources.temperature, layered.sources.topK, layered.sources.topP, layered.sources.repetitionPenalty],
    ['settings', 'flag', 'session', 'model'],
  );

  const none = effectiveSettings({ model: modelLayer(undefined) });
  assert.equal(none.values.temperature, DEFAULT_SETTINGS.temperature);
  assert.equal(none.sources.temperature, 'default');
});

test('modelLayer drops what a setting would refuse', () => {
  assert.deepEqual(modelLayer({ temperature: 5, topK: -1, topP: 0.9 }), { topP: 0.9 });
});

test("the model's max_new_tokens is used when it fits, and fitted quietly when not", () => {
  assert.deepEqual(replyBudget(300, 'model', 1024), { maxNewTokens: 300, lowered: false });
  assert.deepEqual(replyBudget(4096, 'model', 1024), { maxNewTokens: 256, lowered: false });
  assert.deepEqual(replyBudget(4096, 'settings', 1024), { maxNewTokens: 256, lowered: true });
});

test("serve: the model's defaults where a request says nothing; the request's own values first", () => {
  const defaults = generationDefaults({ ...qwenGeneration, max_new_tokens: 200 });
  const plain = planRequest({ model: 'm', prompt: 'x' }, defaults);
  assert.deepEqual(plain.sampling, { temperature: 0.7, topP: 0.8, topK: 20, repetitionPenalty: 1.05, seed: null });
  assert.equal(plain.maxTokens, null);
  assert.equal(plain.modelMaxTokens, 200);
  const asked = planRequest(
    { model: 'm', prompt: 'x', temperature: 0, top_p: 1, top_k: -1, repetition_penalty: 1, max_tokens: 9 },
    defaults,
  );
  assert.deepEqual(asked.sampling, { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1, seed: null });
  assert.equal(asked.maxTokens, 9);
  const openai = planRequest({ model: 'm', prompt: 'x' });
  assert.deepEqual(openai.sampling, { temperature: 1, topP: 1, topK: 0, repetitionPenalty: 1, seed: null });
  assert.equal(openai.modelMaxTokens, null);
});
