// Incremental detokenising gives exactly transformers.js's decode of the whole reply:
// byte-level tokenizers through the byte table, token by token in the engine's thread;
// others through the tokenizer on a short window at the end of the reply.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { byteLevelTable, decodeSpecOf, type ByteTable } from '../../../src/engine/tokenizer/byteLevelTable.js';
import { ByteLevelDetokenizer, decodeIds } from '../../../src/engine/tokenizer/byteLevelDetokenizer.js';
import { TailWindowDetokenizer } from '../../../src/engine/tokenizer/tailWindowDetokenizer.js';
import { HF_GPT2_TINY, HF_LLAMA_TINY, HF_QWEN2_TINY, tinyModelDir } from '../../helpers/fixtures.js';
import {
  gpt2Variant,
  loadTokenizer,
  METASPACE_DECODERS,
  sentencePieceTokenizer,
  type LoadedTokenizer,
} from '../../helpers/tokenizerFolders.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-detok-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** GPT-2's byte → character map (bytes_to_unicode), written out again for the tests. */
function byteChar(b: number): string {
  const printable = (x: number): boolean => (x >= 0x21 && x <= 0x7e) || (x >= 0xa1 && x <= 0xac) || (x >= 0xae && x <= 0xff);
  if (printable(b)) return String.fromCharCode(b);
  let n = 0;
  for (let x = 0; x < b; x++) if (!printable(x)) n++;
  return String.fromCharCode(256 + n);
}

/**
 * Random replies: any id (past the vocabulary too), single-byte tokens of UTF-8 lead and
 * continuation bytes (which split characters, or are invalid), added tokens, and the ids of
 * real text with characters of one to four bytes.
 */
function replies(t: LoadedTokenizer): fc.Arbitrary<number[]> {
  const vocab = t.json['model'] as { vocab: Record<string, number> };
  const size = Math.max(...Object.values(vocab.vocab)) + 1;
  const byteIds = Array.from({ length: 128 }, (_, i) => vocab.vocab[byteChar(0x80 + i)]!);
  const addedIds = (t.json['added_tokens'] as { id: number }[]).map((a) => a.id);
  const textIds = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => t.tokenizer.encode(s, { add_special_tokens: false }));
  const one = fc.oneof(
    fc.integer({ min: 0, max: size + 8 }).map((id) => [id]),
    fc.constantFrom(...byteIds).map((id) => [id]),
    fc.constantFrom(...addedIds).map((id) => [id]),
    textIds,
  );
  return fc.array(one, { maxLength: 16 }).map((parts) => parts.flat());
}

function tableOf(t: LoadedTokenizer): ByteTable {
  const spec = decodeSpecOf(t.json, t.config);
  assert.ok(spec, 'a BPE tokenizer.json has a decode spec');
  const table = byteLevelTable(spec);
  assert.ok(table, 'a byte-level tokenizer has a byte table');
  return table;
}

/** Streams `ids` and checks each prefix against the whole decode; returns the streamed text. */
function checkStream(t: LoadedTokenizer, table: ByteTable, ids: number[]): void {
  const d = new ByteLevelDetokenizer(table);
  let text = '';
  ids.forEach((id, i) => {
    text += d.push(id);
    const whole = t.decode(ids.slice(0, i + 1));
    // Only an incomplete character is held, and the whole decode shows it as one U+FFFD.
    if (whole !== text) assert.equal(whole, `${text}\uFFFD`, `after ${i + 1} of ${JSON.stringify(ids)}`);
  });
  assert.equal(text + d.finish(), t.decode(ids), JSON.stringify(ids));
  assert.equal(decodeIds(table, ids), t.decode(ids), JSON.stringify(ids));
}

describe('byte-level table', () => {
  const fixtures: [string, () => Promise<string>][] = [
    ['hf-gpt2-tiny', async () => HF_GPT2_TINY],
    ['hf-qwen2-tiny', async () => HF_QWEN2_TINY],
    ['hf-llama-tiny', async () => HF_LLAMA_TINY],
    ['the generated tiny GPT-2', tinyModelDir],
    ['GPT-2 with added tokens that are not special', () => gpt2Variant(path.join(scratch, 'added'), false)],
    ['GPT-2 with its ByteLevel decoder inside a Sequence', () => gpt2Variant(path.join(scratch, 'wrapped'), true)],
  ];
  for (const [name, dir] of fixtures) {
    test(`${name}: token by token gives the whole decode at every complete prefix`, async () => {
      const t = await loadTokenizer(await dir());
      const table = tableOf(t);
      fc.assert(
        fc.property(replies(t), (ids) => checkStream(t, table, ids)),
        { numRuns: 150 },
      );
    });
  }

  test('text split into single bytes comes out whole, each character once it is complete', async () => {
    const t = await loadTokenizer(HF_QWEN2_TINY);
    const table = tableOf(t);
    const vocab = (t.json['model'] as { vocab: Record<string, number> }).vocab;
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
        const ids = [...new TextEncoder().encode(s)].map((b) => vocab[byteChar(b)]!);
        const d = new ByteLevelDetokenizer(table);
        const pieces = ids.map((id) => d.push(id));
        assert.equal(pieces.join('') + d.finish(), s);
        // Every piece is whole characters: no U+FFFD in valid text.
        assert.ok(pieces.every((p) => !p.includes('\uFFFD')));
      }),
    );
  });

  test('special tokens decode to nothing and do not split a character; an added token shows as written', async () => {
    const t = await loadTokenizer(await gpt2Variant(path.join(scratch, 'added-2'), false));
    const table = tableOf(t);
    const vocab = (t.json['model'] as { vocab: Record<string, number> }).vocab;
    const euro = [0xe2, 0x82, 0xac].map((b) => vocab[byteChar(b)]!);
    // <|endoftext|> and <|sep|> are special, Ġthe is listed as one, <tool> is added but not special.
    assert.equal(decodeIds(table, [euro[0]!, 50256, euro[1]!, 50259, euro[2]!, vocab['Ġthe']!]), '€');
    // The cut leaves a lone lead byte and two lone continuation bytes.
    assert.equal(t.decode([euro[0]!, 50257, euro[1]!, euro[2]!]), '\uFFFD<tool>\uFFFD\uFFFD');
    assert.equal(decodeIds(table, [euro[0]!, 50257, euro[1]!, euro[2]!]), '\uFFFD<tool>\uFFFD\uFFFD');
  });

  test('a character outside the byte alphabet decodes as a 0 byte, as transformers.js does', async () => {
    const t = await loadTokenizer(await gpt2Variant(path.join(scratch, 'outside'), false));
    const table = tableOf(t);
    assert.equal(t.decode([50260, 50261]), 'a\u0000b\u0000');
    assert.equal(decodeIds(table, [50260, 50261]), 'a\u0000b\u0000');
  });

  test('a tokenizer whose decoding is not byte-level has no table', async () => {
    for (const decoder of Object.keys(METASPACE_DECODERS) as (keyof typeof METASPACE_DECODERS)[]) {
      const t = await loadTokenizer(await sentencePieceTokenizer(path.join(scratch, `sp-${decoder}`), decoder));
      const spec = decodeSpecOf(t.json, t.config);
      assert.ok(spec);
      assert.equal(byteLevelTable(spec), null, decoder);
    }
    const gpt2 = await loadTokenizer(HF_GPT2_TINY);
    const model = gpt2.json['model'] as Record<string, unknown>;
    assert.equal(
      byteLevelTable({ ...decodeSpecOf(gpt2.json, gpt2.config)!, endOfWordSuffix: '</w>' }),
      null,
      'an end-of-word suffix rewrites the text',
    );
    assert.equal(decodeSpecOf({ ...gpt2.json, model: { ...model, type: 'Unigram' } }, gpt2.config), null, 'not BPE');
  });
});

describe('tail window', () => {
  for (const decoder of Object.keys(METASPACE_DECODERS) as (keyof typeof METASPACE_DECODERS)[]) {
    test(`${decoder}: a short window at a time gives the whole decode at every complete prefix`, async () => {
      const t = await loadTokenizer(await sentencePieceTokenizer(path.join(scratch, `window-${decoder}`), decoder));
      const size = Object.keys((t.json['model'] as { vocab: object }).vocab).length + 1;
      const decodeMany = async (lists: number[][]): Promise<string[]> => lists.map((l) => t.decode(l));
      const ids = fc.array(
        fc.oneof(fc.integer({ min: 0, max: size + 4 }), fc.integer({ min: 3 + 0x80, max: 3 + 0xff }), fc.constantFrom(3 + 0x20, 259, 260)),
        { maxLength: 40 },
      );
      await fc.assert(
        fc.asyncProperty(ids, async (ids) => {
          const d = new TailWindowDetokenizer(decodeMany);
          let text = '';
          for (let i = 0; i < ids.length; i++) {
            text += await d.push(ids[i]!);
            const whole = t.decode(ids.slice(0, i + 1));
            if (!whole.endsWith('\uFFFD')) assert.equal(text, whole, `after ${i + 1} of ${JSON.stringify(ids)}`);
          }
          assert.equal(text + (await d.finish()), t.decode(ids), JSON.stringify(ids));
        }),
        { numRuns: 300 },
      );
    });
  }

  test('each step decodes the newest tokens and the one before them, not the reply', async () => {
    const t = await loadTokenizer(await sentencePieceTokenizer(path.join(scratch, 'window-lengths'), 'llama2'));
    const lengths: number[] = [];
    const d = new TailWindowDetokenizer(async (lists) => {
      lengths.push(...lists.map((l) => l.length));
      return lists.map((l) => t.decode(l));
    });
    // "▁hello", "▁the", then € as three byte tokens, "▁a", repeated.
    const ids = Array.from({ length: 10 }, () => [266, 261, 3 + 0xe2, 3 + 0x82, 3 + 0xac, 262]).flat();
    let text = '';
    for (const id of ids) text += await d.push(id);
    assert.equal(text, t.decode(ids));
    assert.ok(Math.max(...lengths) <= 4, `windows of ${Math.max(...lengths)} tokens`);
  });
});
