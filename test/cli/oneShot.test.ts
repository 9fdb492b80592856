// One-shot output is model text on its way to a terminal or a pipe: cleaned for where it
// goes, as the chat UI cleans what it shows, unless --raw.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { runOneShot } from '../../src/cli/oneShot.js';
import type { ModelInfo } from '../../src/engine/protocol.js';
import { FakeEngine } from '../helpers/fakeEngine.js';

function sink(isTTY: boolean): Writable & { isTTY: boolean; text: string } {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      stream.text += chunk.toString();
      done();
    },
  }) as Writable & { isTTY: boolean; text: string };
  stream.isTTY = isTTY;
  stream.text = '';
  return stream;
}

// An escape sequence split across tokens, a title-setting OSC, a bell, a bidi override and \r.
const HOSTILE = ['ok \u001b', '[31mred\u001b]0;title', '\u0007 \u202eevil\r', '\nend'];

async function oneShot(stdoutIsTTY: boolean, raw: boolean): Promise<string> {
  const stdout = sink(stdoutIsTTY);
  const code = await runOneShot({
    engine: new FakeEngine({ scripts: [{ tokens: HOSTILE }] }),
    prompt: 'hi',
    flags: { model: 'fake' },
    stored: {},
    offline: true,
    raw,
    stdout,
    stderr: sink(false),
    signal: new AbortController().signal,
  });
  assert.equal(code, 0);
  return stdout.text;
}

test('one-shot to a terminal: escape sequences and controls removed, even split across tokens; bidi shown inert', async () => {
  assert.equal(await oneShot(true, false), 'ok red <U+202E>evil\nend\n');
});

test('one-shot to a pipe: exact text but for the control characters', async () => {
  assert.equal(await oneShot(false, false), 'ok [31mred]0;title <U+202E>evil\nend\n');
});

test('one-shot with --raw: exactly what the model wrote', async () => {
  assert.equal(await oneShot(false, true), HOSTILE.join('') + '\n');
  assert.equal(await oneShot(true, true), HOSTILE.join('') + '\n');
});

test('one-shot says when the persona is too long for the context and was left out', async () => {
  const stderr = sink(false);
  const code = await runOneShot({
    engine: new FakeEngine({ scripts: [{ tokens: ['ok'] }], contextLength: 64 }),
    prompt: 'hi',
    flags: { model: 'fake', maxNewTokens: 8 },
    system: 'word '.repeat(400),
    stored: {},
    offline: true,
    raw: false,
    stdout: sink(false),
    stderr,
    signal: new AbortController().signal,
  });
  assert.equal(code, 0);
  assert.match(stderr.text, /^parley: the persona is too long for the model's context \(\d+ tokens\) and was left out$/m);
});

/** A fake model whose generation_config.json asks for sampling values of its own. */
class ModelWithDefaults extends FakeEngine {
  override async load(...args: Parameters<FakeEngine['load']>): Promise<ModelInfo> {
    const info = { ...(await super.load(...args)), generationDefaults: { temperature: 0.7, topK: 20, topP: 0.8, maxNewTokens: 40 } };
    this.model = info;
    return info;
  }
}

test("one-shot: the model's own defaults where the user set nothing; a flag wins", async () => {
  const engine = new ModelWithDefaults({ scripts: [{ tokens: ['ok'] }] });
  const code = await runOneShot({
    engine,
    prompt: 'hi',
    flags: { model: 'fake', topP: 0.5 },
    stored: { repetitionPenalty: 1.2 },
    offline: true,
    stdout: sink(false),
    stderr: sink(false),
    signal: new AbortController().signal,
  });
  assert.equal(code, 0);
  const { temperature, topK, topP, repetitionPenalty, maxNewTokens } = engine.calls[0]!.params;
  assert.deepEqual(
    { temperature, topK, topP, repetitionPenalty, maxNewTokens },
    { temperature: 0.7, topK: 20, topP: 0.5, repetitionPenalty: 1.2, maxNewTokens: 40 },
  );
});
