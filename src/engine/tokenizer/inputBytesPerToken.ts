// The most bytes of input text one token can stand for, so that a caller can refuse a text
// that cannot fit a context without tokenizing it: a text of more than
// contextLength × this many bytes holds more than contextLength tokens. Tokenizing such a text
// (megabytes in one word) takes the tokenizer thread tens of seconds; comparing its length
// takes nothing. Null when the tokenizer can drop or fuse text (whitespace splitters, regex
// replacements, fused unknowns), where no such bound holds.
import type { ByteTable } from './byteLevelTable.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Normalizers that only recompose or fold case shrink a text at most this much (three jamo → one Hangul syllable). */
const RECOMPOSING = new Set(['NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'Prepend']);
/** Pre-tokenizers that keep every byte of the text. */
const KEEPING = new Set(['ByteLevel', 'Metaspace', 'Digits', 'Punctuation', 'UnicodeScripts']);

/** How many times a normalizer can shrink a text; null when it can drop text outright. */
function normalizerShrink(n: unknown): number | null {
  if (n === null || n === undefined) return 1;
  if (!isObject(n)) return null;
  const type = n['type'];
  if (type === 'Sequence' && Array.isArray(n['normalizers'])) {
    let factor = 1;
    for (const part of n['normalizers'] as unknown[]) {
      const f = normalizerShrink(part);
      if (f === null) return null;
      factor *= f;
    }
    return factor;
  }
  if (typeof type === 'string' && RECOMPOSING.has(type)) return 3;
  if (type === 'Replace' && isObject(n['pattern']) && typeof n['pattern']['String'] === 'string' && typeof n['content'] === 'string') {
    const from = utf8Bytes(n['pattern']['String']);
    const to = utf8Bytes(n['content']);
    return to === 0 ? null : Math.max(1, from / to);
  }
  return null;
}

function preTokenizerKeeps(p: unknown): boolean {
  if (p === null || p === undefined) return true;
  if (!isObject(p)) return false;
  const type = p['type'];
  if (type === 'Sequence' && Array.isArray(p['pretokenizers'])) return (p['pretokenizers'] as unknown[]).every(preTokenizerKeeps);
  if (type === 'Split') return p['behavior'] !== 'Removed';
  return typeof type === 'string' && KEEPING.has(type);
}

/** The longest vocabulary string, in UTF-8 bytes: at least as long as the input it matches (a byte-level token's characters each stand for one byte). */
function longestVocabString(model: Json): number | null {
  let longest = 0;
  const vocab = model['vocab'];
  if (model['type'] === 'BPE' && isObject(vocab)) {
    // Fused unknowns make one token of any run of characters the vocabulary lacks.
    if (model['fuse_unk'] === true && model['byte_fallback'] !== true && model['unk_token'] != null) return null;
    for (const token in vocab) longest = Math.max(longest, utf8Bytes(token));
  } else if (model['type'] === 'Unigram' && Array.isArray(vocab)) {
    if (model['byte_fallback'] !== true && model['unk_id'] != null) return null;
    for (const entry of vocab as unknown[])
      if (Array.isArray(entry) && typeof entry[0] === 'string') longest = Math.max(longest, utf8Bytes(entry[0]));
  } else {
    return null;
  }
  return longest;
}

/** Added tokens are matched in the text as written, special ones included. */
function longestAddedToken(addedTokens: unknown): number {
  let longest = 0;
  if (Array.isArray(addedTokens)) {
    for (const t of addedTokens as unknown[])
      if (isObject(t) && typeof t['content'] === 'string') longest = Math.max(longest, utf8Bytes(t['content']));
  }
  return longest;
}

/** The longest entry of a byte-level table: exact where the table applies. */
function longestTableEntry(table: ByteTable): number {
  let longest = 0;
  for (let i = 0; i + 1 < table.offsets.length; i++) longest = Math.max(longest, table.offsets[i + 1]! - table.offsets[i]!);
  return longest;
}

export function inputBytesPerToken(tokenizerJson: unknown, byteTable: ByteTable | null): number | null {
  if (!isObject(tokenizerJson) || !isObject(tokenizerJson['model'])) return null;
  const shrink = normalizerShrink(tokenizerJson['normalizer']);
  if (shrink === null || !preTokenizerKeeps(tokenizerJson['pre_tokenizer'])) return null;
  const vocab = longestVocabString(tokenizerJson['model']);
  if (vocab === null) return null;
  const longest = Math.max(
    byteTable ? Math.min(vocab, longestTableEntry(byteTable)) : vocab,
    longestAddedToken(tokenizerJson['added_tokens']),
  );
  return Math.max(1, Math.ceil(longest * shrink));
}
