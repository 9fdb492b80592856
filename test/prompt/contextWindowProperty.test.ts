// Property test of the context window with GPT-2's real BPE tokenizer (gpt-3-encoder):
// thousands of random conversations, windows built turn after turn as in a chat, with the
// transcript format and with published chat templates (rendered over the whole window).
// Set PARLEY_PROPERTY_SEED to replay a failure; PARLEY_PROPERTY_RUNS to run more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from 'gpt-3-encoder';
import { buildWindow, ContextWindowError, TRUNCATION_MARKER } from '../../src/prompt/contextWindow.js';
import { addUser, appendReply, emptyConversation } from '../../src/prompt/conversation.js';
import { transcriptFormat, type PromptFormat } from '../../src/prompt/promptFormat.js';
import { templateFormat } from '../../src/prompt/templateRenderer.js';
import { publishedTemplate } from '../helpers/fixtures.js';
import { TokenCountCache, type CountTokens } from '../../src/prompt/tokenCountCache.js';
import type { Conversation } from '../../src/prompt/conversationTypes.js';

const SEED = Number(process.env.PARLEY_PROPERTY_SEED ?? 20240611);
const RUNS = Number(process.env.PARLEY_PROPERTY_RUNS ?? 1500);

// mulberry32: tiny, fast, good enough to explore inputs, and reproducible from the seed.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = ReturnType<typeof prng>;
const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Random, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;

const PIECES = [
  'hello',
  'the',
  'context',
  'window',
  'Über',
  'naïve',
  'café',
  '日本語',
  'テキスト',
  '中文',
  'Привет',
  'مرحبا',
  'שלום',
  '😀',
  '👍🏽',
  '👨‍👩‍👧‍👦',
  '🇳🇱',
  '🏳️‍🌈',
  '∑',
  '→',
  '…',
  '  ',
  '\n',
  '\n\n',
  '\t',
  'User:',
  '\nUser:',
  'Assistant:',
  '<|endoftext|>',
  '[…]',
  '```js\nconst x = 1;\n```',
  '12345',
  '3.14',
  '"quoted"',
  "it's",
  'e\u0301',
  '\u200b',
  'ﬁ',
];

function text(r: Random): string {
  const shape = r();
  // Mostly chat-sized, sometimes empty-ish, sometimes far longer than any context.
  const count = shape < 0.05 ? int(r, 0, 1) : shape < 0.85 ? int(r, 1, 40) : shape < 0.97 ? int(r, 100, 600) : int(r, 1500, 4000);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(r() < 0.7 ? pick(r, PIECES) : String.fromCodePoint(int(r, 0x20, 0x2fff)));
  // Unspaced runs become one long BPE word, which is slow to encode: keep those short.
  return parts.join(count > 60 || r() < 0.8 ? ' ' : '');
}

// gpt-3-encoder concatenates token arrays quadratically, which makes 20 000-character
// messages slow. GPT-2 applies BPE to each pre-tokenizer match on its own, so counting
// match by match (memoised) gives the same numbers fast; the test checks that on every
// prompt, and judges every prompt with the plain encode().
const PRE_TOKENIZER = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const perMatch = new Map<string, number>();
function gpt2Count(text: string): number {
  let n = 0;
  for (const [match] of text.matchAll(PRE_TOKENIZER)) {
    let m = perMatch.get(match);
    if (m === undefined) perMatch.set(match, (m = encode(match).length));
    n += m;
  }
  return n;
}
const gpt2Raw: CountTokens = async (texts) => texts.map(gpt2Count);

const DAY = new Date('2026-03-05T12:00:00Z');
const TEMPLATES: { name: string; format: PromptFormat }[] = [
  {
    name: 'qwen2.5',
    format: templateFormat({ template: publishedTemplate('Qwen-Qwen2.5-7B-Instruct'), bosToken: '', eosToken: '<|im_end|>' }),
  },
  {
    name: 'llama3.2',
    format: templateFormat(
      { template: publishedTemplate('meta-llama-Llama-3.2-3B-Instruct'), bosToken: '<|begin_of_text|>', eosToken: '<|eot_id|>' },
      { date: DAY, bos: '<|begin_of_text|>' },
    ),
  },
  { name: 'gemma2', format: templateFormat({ template: publishedTemplate('google-gemma-2-2b-it'), bosToken: '<bos>', eosToken: '<eos>' }) },
];

test(`window invariants hold over ${RUNS} random chats (seed ${SEED})`, async () => {
  const r = prng(SEED);
  const cache = new TokenCountCache();
  let windows = 0;
  let tooSmall = 0;
  let truncated = 0;
  let dropped = 0;
  let personaDropped = 0;
  let prefixChecked = 0;
  const formats = new Set<string>();
  for (let run = 0; run < RUNS; run++) {
    const contextLength = pick(r, [64, 64, 96, 128, 256, 512, 1024]);
    const maxNewTokens = r() < 0.8 ? int(r, 1, Math.floor(contextLength / 2)) : int(r, 1, contextLength - 1);
    const names = r() < 0.8 ? { user: 'User', assistant: 'Assistant' } : { user: 'Ann', assistant: 'Bot 9' };
    const template = r() < 0.5 ? null : pick(r, TEMPLATES);
    const format = template?.format ?? transcriptFormat(names);
    formats.add(template?.name ?? 'transcript');
    const persona = r() < 0.6 ? text(r) : null;
    const countTokens = cache.counter('gpt2', gpt2Raw);
    const context = `run ${run} (${template?.name ?? 'transcript'}): contextLength ${contextLength}, maxNewTokens ${maxNewTokens}, seed ${SEED}`;

    let c: Conversation = emptyConversation(persona);
    let start: string | null = null;
    let previous: { prompt: string; start: string; persona: string; truncated: boolean } | null = null;
    const exchanges = int(r, 1, r() < 0.8 ? 6 : 25);
    for (let e = 0; e < exchanges; e++) {
      c = addUser(c, text(r));
      const newest = c.turns.at(-1)!;
      let w;
      try {
        w = await buildWindow(c, { contextLength, maxNewTokens, countTokens, format, start });
      } catch (error) {
        assert.ok(error instanceof ContextWindowError && error.code === 'too-small', `${context}: ${String(error)}`);
        // Only when not even "<user>: […]" and the cue fit.
        const frame = format.render(null, [{ role: 'user', text: TRUNCATION_MARKER }]);
        assert.ok(encode(frame).length > contextLength - maxNewTokens - 2, `${context}: too-small for a budget that holds the frame`);
        tooSmall++;
        break;
      }
      windows++;
      const budget = contextLength - maxNewTokens;
      const real = encode(w.prompt).length;
      assert.equal(gpt2Count(w.prompt), real, `${context}: per-match count differs from encode()`);
      assert.equal(w.budget, budget, context);
      assert.ok(real <= budget, `${context}: prompt has ${real} tokens, budget ${budget}`);
      assert.equal(w.promptTokens, real, context);

      // The window is whole turns rendered together: the included turns, the newest one
      // whole or its end behind the marker.
      assert.equal(w.includedTurnIds.at(-1), newest.id, context);
      const included = c.turns.filter((t) => w.includedTurnIds.includes(t.id));
      const shownPersona = w.persona === 'included' ? c.persona : null;
      if (w.truncated) {
        truncated++;
        const hole = '\u2063kept\u2063';
        const [before, after] = format
          .render(shownPersona, [...included.slice(0, -1), { role: 'user', text: TRUNCATION_MARKER + hole }])
          .split(hole) as [string, string];
        const head = before.trimEnd();
        assert.ok(w.prompt.startsWith(head) && w.prompt.endsWith(after), `${context}: not the window's turns around the cut message`);
        const kept = w.prompt.slice(head.length, w.prompt.length - after.length).trim();
        assert.ok(newest.text.trimEnd().endsWith(kept), `${context}: kept text is not the message's end`);
      } else {
        assert.equal(w.prompt, format.render(shownPersona, included), `${context}: not the window's turns rendered`);
      }

      // The prefix-cache property: while the window keeps its start, the last prompt and its
      // reply begin this one (for the formats that promise it).
      if (format.prefixStable && previous && !previous.truncated && previous.start === w.start && previous.persona === w.persona) {
        assert.ok(w.prompt.startsWith(previous.prompt), `${context}: the earlier prompt is not a prefix of this one`);
        prefixChecked++;
      }
      previous = { prompt: w.prompt, start: w.start, persona: w.persona, truncated: w.truncated };

      // Whole exchanges, contiguous, newest last.
      const ids = c.turns.map((t) => t.id);
      assert.deepEqual([...w.droppedTurnIds, ...w.includedTurnIds], ids, context);
      const first = ids.indexOf(w.start);
      assert.ok(first === 0 || c.turns[first]!.role === 'user', `${context}: exchange split`);
      if (w.droppedCount > 0) dropped++;

      // The persona stays whenever it fits beside the whole newest message, or beside a
      // quarter of the budget of it (with a few tokens of slack for the cut marker and
      // for BPE merges at the joins, which part counts cannot see).
      if (c.persona !== null) {
        const alone = format.pieces(c.persona, [newest]);
        const [p, u, q] = [alone.persona, alone.turns[0]!, alone.frame].map(gpt2Count) as [number, number, number];
        const fitsWhole = gpt2Count(format.render(c.persona, [newest])) <= budget;
        const fitsBesideQuarter = p + Math.min(u, Math.floor(budget / 4)) + q + 6 <= budget;
        if (fitsWhole || fitsBesideQuarter) assert.equal(w.persona, 'included', `${context}: persona fits but was dropped`);
        if (w.persona !== 'included') personaDropped++;
      } else {
        assert.equal(w.persona, 'none');
      }

      // Stable prefix: without a slide the window starts where the previous one did.
      if (!w.slid && start !== null && ids.includes(start)) assert.equal(w.start, start, `${context}: start moved without a slide`);
      start = w.start;
      c = appendReply(c, text(r));
    }
  }
  // The generator must actually reach the interesting cases.
  assert.ok(windows > RUNS, `windows ${windows}`);
  assert.ok(
    truncated > 50 && dropped > 100 && personaDropped > 10 && tooSmall > 0 && prefixChecked > 500,
    JSON.stringify({ truncated, dropped, personaDropped, tooSmall, prefixChecked }),
  );
  assert.equal(formats.size, 1 + TEMPLATES.length, 'every format was exercised');
});
