// Byte-level BPE (GPT-2, Qwen2, Llama-3) spells every byte as one printable character, so
// each vocabulary entry stands for a fixed string of bytes. Undoing that spelling once, at
// load, lets the engine turn each new token into text on its own (its bytes through a
// streaming UTF-8 decoder) instead of having the whole reply decoded again for every token.
//
// Everything here mirrors what transformers.js's decode(ids, { skip_special_tokens: true,
// clean_up_tokenization_spaces: false }) does, including its quirks; a tokenizer this cannot
// mirror gets no table (null) and is decoded by the tokenizer itself.

/** The entry's bytes continue the current run of byte-level text. */
export const PIECE_BYTES = 0;
/** The entry decodes to nothing (a skipped special token, an id with no token). */
export const PIECE_NONE = 1;
/** An added token shown as written: it ends the current byte run, then its UTF-8 follows. */
export const PIECE_TEXT = 2;

export interface ByteTable {
  /** Entry i is bytes[offsets[i], offsets[i + 1]); one entry per id, then one for ids beyond the vocabulary. */
  offsets: Uint32Array;
  /** PIECE_BYTES, PIECE_NONE or PIECE_TEXT, per entry. */
  kinds: Uint8Array;
  bytes: Uint8Array;
}

/** What decoding depends on, as transformers.js builds it from tokenizer.json and tokenizer_config.json. */
export interface DecodeSpec {
  /** The token string of each id, added tokens included; holes where no token has the id. */
  vocab: readonly (string | undefined)[];
  /** What an id without a token decodes as; null for nothing. */
  unkToken: string | null;
  /** Strings that skip_special_tokens drops: special added tokens and additional_special_tokens. */
  specialTokens: ReadonlySet<string>;
  /** The content of every added token, special or not. */
  addedTokens: ReadonlySet<string>;
  /** tokenizer.json's `decoder`. */
  decoder: unknown;
  /** The BPE model's end_of_word_suffix (it makes decode rewrite and trim the text). */
  endOfWordSuffix: string | null;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The DecodeSpec of a BPE tokenizer.json and its tokenizer_config.json; null for other models. */
export function decodeSpecOf(tokenizerJson: unknown, tokenizerConfig: unknown): DecodeSpec | null {
  if (!isObject(tokenizerJson) || !isObject(tokenizerJson['model'])) return null;
  const model = tokenizerJson['model'];
  if (model['type'] !== 'BPE' || !isObject(model['vocab'])) return null;
  const entries = model['vocab'];
  const vocab: (string | undefined)[] = new Array<string | undefined>(Object.keys(entries).length);
  for (const token in entries) {
    const id = entries[token];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) return null;
    vocab[id] = token;
  }
  const specialTokens = new Set<string>();
  const addedTokens = new Set<string>();
  const added = tokenizerJson['added_tokens'] ?? [];
  if (!Array.isArray(added)) return null;
  for (const t of added as unknown[]) {
    if (!isObject(t) || typeof t['content'] !== 'string' || !Number.isInteger(t['id']) || (t['id'] as number) < 0) return null;
    vocab[t['id'] as number] = t['content'];
    addedTokens.add(t['content']);
    if (t['special'] === true) specialTokens.add(t['content']);
  }
  const extra = isObject(tokenizerConfig) ? tokenizerConfig['additional_special_tokens'] : undefined;
  // transformers.js adds these as they are; entries that are not strings never match a token.
  if (Array.isArray(extra)) for (const s of extra) if (typeof s === 'string') specialTokens.add(s);
  const unk = model['unk_token'];
  const suffix = model['end_of_word_suffix'];
  return {
    vocab,
    unkToken: typeof unk === 'string' ? unk : null,
    specialTokens,
    addedTokens,
    decoder: tokenizerJson['decoder'],
    endOfWordSuffix: typeof suffix === 'string' ? suffix : null,
  };
}

/**
 * How the decoder treats added tokens: a ByteLevel decoder of its own shows them as written;
 * one inside a Sequence is not told about them, so it spells them as bytes like any token.
 * Null when the decoder is not (only) byte-level.
 */
function byteLevelMode(decoder: unknown): 'top' | 'sequence' | null {
  if (!isObject(decoder)) return null;
  if (decoder['type'] === 'ByteLevel') return 'top';
  const inner = decoder['decoders'];
  if (
    decoder['type'] === 'Sequence' &&
    Array.isArray(inner) &&
    inner.length === 1 &&
    isObject(inner[0]) &&
    inner[0]['type'] === 'ByteLevel'
  ) {
    return 'sequence';
  }
  return null;
}

/** The byte of each character of GPT-2's byte-level alphabet (bytes_to_unicode, inverted); -1 for others. */
const BYTE_OF_CHAR: Int16Array = (() => {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const map = new Int16Array(512).fill(-1);
  let n = 0;
  for (let b = 0; b < 256; b++) map[printable(b) ? b : 256 + n++] = b;
  return map;
})();

/** The byte table of `spec`, or null when its decoding is not plain byte-level. */
export function byteLevelTable(spec: DecodeSpec): ByteTable | null {
  const mode = byteLevelMode(spec.decoder);
  // A suffix makes decode replace it by spaces and trim the whole text: not per token.
  if (mode === null || spec.endOfWordSuffix) return null;
  const count = spec.vocab.length;
  const offsets = new Uint32Array(count + 2);
  const kinds = new Uint8Array(count + 1);
  // A byte per UTF-16 unit at most when spelled, three when shown as written.
  let capacity = 0;
  for (let i = 0; i <= count; i++) capacity += 3 * ((i < count ? spec.vocab[i] : undefined) ?? spec.unkToken ?? '').length;
  const bytes = new Uint8Array(capacity);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let used = 0;
  for (let i = 0; i <= count; i++) {
    // What decode looks each id up as: its token, else the unk token (ids past the end too).
    const token = (i < count ? spec.vocab[i] : undefined) ?? spec.unkToken;
    let kind = PIECE_BYTES;
    if (token === null || spec.specialTokens.has(token)) kind = PIECE_NONE;
    else if (mode === 'top' && spec.addedTokens.has(token)) {
      kind = PIECE_TEXT;
      const written = encoder.encodeInto(token, bytes.subarray(used)).written;
      // A lone surrogate would not survive the trip through UTF-8.
      if (decoder.decode(bytes.subarray(used, used + written)) !== token) return null;
      used += written;
    } else used = spellBytes(token, bytes, used);
    kinds[i] = kind;
    offsets[i + 1] = used;
  }
  return { offsets, kinds, bytes: bytes.slice(0, used) };
}

/**
 * Writes a token's bytes at `at` and returns where they end: each character's byte, and 0
 * for a character outside the alphabet (as transformers.js's Uint8Array conversion gives).
 */
function spellBytes(token: string, out: Uint8Array, at: number): number {
  for (let k = 0; k < token.length; k++) {
    const unit = token.charCodeAt(k);
    // A surrogate pair is one character, outside the alphabet.
    if (unit >= 0xd800 && unit <= 0xdbff && k + 1 < token.length) {
      const low = token.charCodeAt(k + 1);
      if (low >= 0xdc00 && low <= 0xdfff) k++;
    }
    const byte = unit < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[unit]! : -1;
    out[at++] = byte < 0 ? 0 : byte;
  }
  return at;
}

/** The buffers to transfer when the table moves to another thread. */
export function tableBuffers(table: ByteTable): ArrayBuffer[] {
  return [table.offsets.buffer as ArrayBuffer, table.kinds.buffer as ArrayBuffer, table.bytes.buffer as ArrayBuffer];
}
