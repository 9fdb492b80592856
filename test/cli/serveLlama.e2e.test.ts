// `parley serve` batches Llama-family models on Parley's graph: generated llama and qwen2 folders
// (make-model --arch) and the plain Optimum fixtures (converted on load). Each chat reply, rendered
// through the model's chat template, is the same alone and with three other clients at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { makeLlamaModelFolder } from '../../src/graph/makeLlamaFolder.js';
import type { LlamaDims } from '../../src/graph/llamaWeights.js';
import { HF_LLAMA_TINY, HF_QWEN2_TINY } from '../helpers/fixtures.js';
import { startServe } from '../helpers/serveProcess.js';

const TINY: Omit<LlamaDims, 'arch' | 'qkvBias' | 'vocabSize' | 'ropeTheta'> = {
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 16,
  hidden: 64,
  inner: 128,
  positions: 1024,
  rmsNormEps: 1e-5,
  tied: true,
};

let scratch: string;
const folders: { label: string; folder: string }[] = [];

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-serve-llama-'));
  const llama = path.join(scratch, 'llama-tiny');
  const qwen2 = path.join(scratch, 'qwen2-tiny');
  // The Qwen2 vocabulary is smaller than GPT-2's: its tokenizer is cut to fit.
  await makeLlamaModelFolder({
    out: llama,
    dims: { ...TINY, arch: 'llama', qkvBias: false, vocabSize: 50300, ropeTheta: 1e5 },
    seed: 3,
    q8: false,
    q4: false,
  });
  await makeLlamaModelFolder({
    out: qwen2,
    dims: { ...TINY, arch: 'qwen2', qkvBias: true, vocabSize: 8000, ropeTheta: 1e6, tied: false },
    seed: 4,
    q8: false,
    q4: false,
  });
  folders.push(
    { label: 'generated llama (Llama-3.2 template)', folder: llama },
    { label: 'generated qwen2 (Qwen2.5 template, cut vocabulary, untied head)', folder: qwen2 },
    { label: 'converted Llama fixture', folder: HF_LLAMA_TINY },
    { label: 'converted Qwen2 fixture', folder: HF_QWEN2_TINY },
  );
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const PROMPTS = ['Tell me about the sea.', 'What is two and two?', 'Name a colour, please, and then a fruit.', 'Hi'];

describe('parley serve on Llama-family graphs', () => {
  test('replies through the chat template are the same alone and among four concurrent clients, for each model', async () => {
    for (const { label, folder } of folders) {
      const serve = await startServe(['--model', folder, '--offline', '--parallel', '4'], {
        PARLEY_CONFIG_DIR: '/nonexistent-parley-config',
        PARLEY_CACHE_DIR: path.join(scratch, 'cache'),
      });
      try {
        assert.match(serve.stderr(), /up to 4 requests decoded together/, `${label}: ${serve.stderr()}`);
        const client = new OpenAI({ baseURL: serve.baseURL, apiKey: 'none', maxRetries: 0 });
        const ask = async (content: string) => {
          const reply = await client.chat.completions.create({
            model: path.basename(folder),
            messages: [
              { role: 'system', content: 'Answer briefly.' },
              { role: 'user', content },
            ],
            temperature: 0,
            max_tokens: 24,
          });
          return {
            text: reply.choices[0]!.message.content,
            finish: reply.choices[0]!.finish_reason,
            tokens: reply.usage!.completion_tokens,
          };
        };
        const alone: Awaited<ReturnType<typeof ask>>[] = [];
        for (const p of PROMPTS) alone.push(await ask(p));
        const together = await Promise.all(PROMPTS.map(ask));
        together.forEach((r, i) => assert.deepEqual(r, alone[i], `${label}, client ${i}`));
        assert.ok(
          alone.some((r) => r.tokens > 4),
          `${label}: replies long enough to interleave: ${JSON.stringify(alone)}`,
        );
      } finally {
        await serve.stop();
      }
    }
  });
});
