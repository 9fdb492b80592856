// The model's own sampling defaults and /show, on the Qwen2 fixture with the real worker
// engine: generation_config.json's values are in effect where the user set nothing, with
// source `model`; a value the user sets wins; /show prints the model's facts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { createEngine, type WorkerEngineClient } from '../../src/engine/worker/workerEngineClient.js';
import { HF_QWEN2_TINY } from '../helpers/fixtures.js';
import { configParameterCount } from '../../src/graph/parameterCount.js';
import { makeDirs, startChat, type ChatDirs } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

let engine: WorkerEngineClient;
let dirs: ChatDirs;

before(async () => {
  dirs = await makeDirs();
  engine = createEngine({ cacheDir: path.join(dirs.root, 'cache') });
});

after(async () => {
  cleanup();
  await engine.dispose();
  await rm(dirs.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

test("Qwen2: its generation_config.json's sampling values are the defaults, below the user's; /show gives its facts", async () => {
  const chat = await startChat({
    engineClient: engine,
    dirs,
    flags: { model: HF_QWEN2_TINY, topP: 0.9 },
    args: { offline: true, session: 'defaults' },
  });
  await chat.waitFor(/hf-qwen2-tiny fp32/, 30_000);
  // Lines wrap at the test terminal's width: compared without whitespace.
  const squeezed = (text: string): string => text.replace(/\s+/g, '');
  await chat.waitFor(/Its own defaults/);
  assert.ok(
    squeezed(chat.frame()).includes(
      squeezed('Its own defaults (your settings win over them): temperature 0.7, top-k 20, top-p 0.8, repeat penalty 1.05.'),
    ),
    chat.frame(),
  );

  await chat.send('/settings');
  let frame = await chat.waitFor(/temperature\s+0\.7\s+\(model\)/);
  assert.match(frame, /topK\s+20\s+\(model\)/);
  assert.match(frame, /repetitionPenalty\s+1\.05\s+\(model\)/);
  assert.match(frame, /topP\s+0\.9\s+\(flag\)/, 'a flag wins over the model');
  assert.match(frame, /seed\s+none\s+\(default\)/);

  // The reply is generated with them: the reply's recorded parameters say so.
  await chat.send('/max-tokens 3');
  await chat.send('Hello');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    30_000,
    'a reply',
  );
  const params = chat.controller.session.conversation.turns[1]!.meta?.params;
  assert.deepEqual(params && { ...params, seed: null }, {
    temperature: 0.7,
    topK: 20,
    topP: 0.9,
    repetitionPenalty: 1.05,
    maxNewTokens: 3,
    seed: null,
  });

  // A value set in the chat wins over the model's from then on.
  await chat.send('/temp 0.2');
  await chat.send('/temp');
  await chat.waitFor('temperature is 0.2 (set in this session)');
  await chat.send('/top-k');
  await chat.waitFor(/top-k is 20 \(the model's own default/);

  await chat.send('/show');
  frame = await chat.waitFor(/Architecture\s+qwen2/);
  // Qwen2 runs on Parley's graph converted from the export: the file is that graph; the count
  // is the model's, from config.json (the graph's initializers would count fused and quantized copies).
  assert.match(squeezed(frame), /Graph\s*Parley's\(convertedfromonnx\/model\.onnx/);
  const converted = path.join(dirs.root, 'cache', 'converted');
  const [folder] = await readdir(converted);
  const runs = path.join(converted, folder!, 'rows-fp32', 'onnx', 'model.onnx');
  const config = JSON.parse(await readFile(path.join(HF_QWEN2_TINY, 'config.json'), 'utf8')) as Record<string, unknown>;
  const count = configParameterCount(config)!;
  assert.ok(frame.includes(`(${count.toLocaleString('en-US')}, from config.json)`), frame);
  assert.match(frame, /Context\s+256 tokens/);
  assert.match(frame, /Dtype\s+fp32/);
  assert.ok(squeezed(frame).includes(squeezed(runs)), 'the ONNX file that runs');
  assert.match(frame, /Defaults\s+temperature 0\.7, top-k 20, top-p 0\.8, repeat penalty 1\.05/);
  assert.match(frame, /Template\s+ChatML chat template, \d+ lines?/);
  assert.ok(frame.includes('│ '), 'the template\u2019s first lines');
  assert.ok(frame.replace(/\s+/g, '').includes(`Livesin${HF_QWEN2_TINY}`), 'where it lives');
  await chat.send('/exit');
});
