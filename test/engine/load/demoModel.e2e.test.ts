// The shipped demo model (models/demo, trained by tools/train-demo/): it loads as Parley's own graph
// from the folder as it is, fits the repository's size budget, and its greedy continuations are
// English: at least 90 % of their words are in Debian's word list.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type LoadedModel, loadModel } from '../../../src/engine/load/modelLoader.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cleanup } from 'ink-testing-library';
import { createEngine } from '../../../src/engine/worker/workerEngineClient.js';
import { REPO_ROOT } from '../../helpers/fixtures.js';
import { parleyDirs } from '../../helpers/parleyEnv.js';
import { startChat } from '../../helpers/uiFakes.js';

const run = promisify(execFile);

const DEMO = path.join(REPO_ROOT, 'models', 'demo');
const WORDS = '/usr/share/dict/words';
const SIZE_LIMIT = 5_000_000;

interface EnglishScoreModule {
  readWordList(file?: string): Set<string>;
  englishScore(text: string, words: Set<string>): { words: number; share: number; unknown: string[] };
}

let scratch: string;
let model: LoadedModel;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-demo-'));
  model = await loadModel({ kind: 'folder', path: DEMO }, { dtype: 'q8', offline: true, cacheDir: scratch }, () => {});
});
after(async () => {
  await model?.release();
  await rm(scratch, { recursive: true, force: true });
});

/** Greedy continuation of `prompt`, at most `maxTokens` tokens, stopping at the end-of-text token. */
async function greedy(prompt: string, maxTokens: number): Promise<string> {
  const [ids] = await model.tokenizer.encode([prompt]);
  const detokenizer = model.tokenizer.incremental();
  let cache = model.decoder.emptyCache();
  let next = ids!;
  let text = '';
  for (let i = 0; i < maxTokens; i++) {
    const step = await model.decoder.forward(next, cache);
    cache = step.cache;
    let best = 0;
    for (let j = 1; j < step.logits.length; j++) if (step.logits[j]! > step.logits[best]!) best = j;
    if (model.info.eosTokenIds.includes(best)) break;
    text += await detokenizer.push(best);
    next = [best];
  }
  return text + (await detokenizer.finish());
}

async function folderBytes(dir: string): Promise<number> {
  const names = await readdir(dir, { recursive: true });
  const sizes = await Promise.all(
    names.map(async (name) => {
      const info = await stat(path.join(dir, name));
      return info.isFile() ? info.size : 0;
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

describe('the demo model', () => {
  test("loads from the folder as Parley's graph: a trained GPT-2 of about 3M parameters, 512 positions", async () => {
    const config = JSON.parse(await readFile(path.join(DEMO, 'config.json'), 'utf8')) as {
      model_type: string;
      parley_converted?: unknown;
      parley_demo: { description: string; parameters: number };
    };
    assert.equal(config.model_type, 'gpt2');
    assert.ok(config.parley_converted, "config.json marks the graphs as Parley's own");
    assert.equal(config.parley_demo.description, 'a 3M-parameter model trained on the King James Bible');
    assert.ok(config.parley_demo.parameters >= 2_500_000 && config.parley_demo.parameters <= 3_400_000, `${config.parley_demo.parameters}`);
    assert.equal(model.info.dtype, 'q8');
    assert.equal(model.info.randomWeights, false);
    assert.equal(model.info.contextLength, 512);
    assert.equal(model.info.vocabSize, 4096);
    assert.ok((await folderBytes(DEMO)) < SIZE_LIMIT, `models/demo stays under ${SIZE_LIMIT} bytes`);
  });

  test('greedy continuations are English (≥ 90 % dictionary words)', async (t) => {
    if (!existsSync(WORDS)) {
      t.skip(`${WORDS} is missing (Debian's wamerican package provides it)`);
      return;
    }
    const scorer = (await import(
      pathToFileURL(path.join(REPO_ROOT, 'tools', 'train-demo', 'english_score.mjs')).href
    )) as EnglishScoreModule;
    const words = scorer.readWordList(WORDS);
    const text = await greedy('And God said', 100);
    const score = scorer.englishScore(text, words);
    assert.ok(score.words >= 30, `a continuation of some length: ${JSON.stringify(text)}`);
    assert.ok(
      score.share >= 0.9,
      `${(score.share * 100).toFixed(1)} % dictionary words in ${JSON.stringify(text)}; not found: ${score.unknown.join(' ')}`,
    );
  });

  test('parley --model demo -p: English on stdout, nothing on stderr, offline, with no download and no cache', async (t) => {
    if (!existsSync(WORDS)) {
      t.skip(`${WORDS} is missing (Debian's wamerican package provides it)`);
      return;
    }
    const env = { PATH: process.env['PATH'], ...parleyDirs(scratch) };
    const cli = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
    const { stdout, stderr } = await run(
      process.execPath,
      [
        cli,
        '--model',
        'demo',
        '--offline',
        '-p',
        'And God said',
        '--temperature',
        '0',
        '--max-tokens',
        '100',
        '--sessions-dir',
        path.join(scratch, 'sessions'),
      ],
      { env },
    );
    assert.equal(stderr, '');
    const scorer = (await import(
      pathToFileURL(path.join(REPO_ROOT, 'tools', 'train-demo', 'english_score.mjs')).href
    )) as EnglishScoreModule;
    const score = scorer.englishScore(stdout, scorer.readWordList(WORDS));
    assert.ok(
      score.words >= 30 && score.share >= 0.9,
      `${(score.share * 100).toFixed(1)} % of ${score.words} words: ${JSON.stringify(stdout)}`,
    );
    assert.equal(existsSync(path.join(scratch, 'cache')), false, 'nothing written to the model cache');
  });

  test('the chat says what it is, on the ready line and in the status bar, with no noise warning', async () => {
    const engine = createEngine({ cacheDir: path.join(scratch, 'ui-cache') });
    try {
      const chat = await startChat({ engineClient: engine, flags: { model: 'demo' }, args: { offline: true } });
      await chat.waitFor('Model demo ready (q8, 512 tokens of context).', 30_000);
      await chat.waitFor('demo: a 3M-parameter model trained on the King James Bible.');
      await chat.waitFor(/demo q8 · demo: a 3M-parameter model trained on the King James Bible/);
      assert.doesNotMatch(chat.frame(), /noise/);
    } finally {
      cleanup();
      await engine.dispose();
    }
  });
});
