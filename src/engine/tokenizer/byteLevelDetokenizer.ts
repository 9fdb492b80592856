// Turns token ids into text with a byte table (byteLevelTable.ts), in whatever thread holds
// the table: no tokenizer, no messages, constant work per token.
import { PIECE_BYTES, PIECE_NONE, PIECE_TEXT, type ByteTable } from './byteLevelTable.js';

/** Decodes one token at a time; the pieces concatenate to what decodeIds gives for all of them. */
export interface IncrementalDetokenizer {
  /** The text `id` adds to the reply: '' while a character's bytes are still incomplete. */
  push(id: number): string | Promise<string>;
  /** What is still held at the end of the reply (an incomplete character comes out as U+FFFD). */
  finish(): string | Promise<string>;
}

// transformers.js decodes with ignoreBOM, so a leading byte-order mark stays in the text.
const utf8Options = { ignoreBOM: true } as const;
const streaming = { stream: true } as const;

export class ByteLevelDetokenizer implements IncrementalDetokenizer {
  private readonly utf8 = new TextDecoder('utf-8', utf8Options);
  private readonly whole = new TextDecoder('utf-8', utf8Options);

  constructor(private readonly table: ByteTable) {}

  push(id: number): string {
    const { kinds, offsets, bytes } = this.table;
    const entry = id >= 0 && id < kinds.length - 1 ? id : kinds.length - 1;
    const kind = kinds[entry];
    if (kind === PIECE_NONE) return '';
    const piece = bytes.subarray(offsets[entry]!, offsets[entry + 1]!);
    if (kind === PIECE_BYTES) return this.utf8.decode(piece, streaming);
    // An added token closes the byte run before it, incomplete character and all.
    return this.utf8.decode() + this.whole.decode(piece);
  }

  finish(): string {
    return this.utf8.decode();
  }
}

/** The text of `ids` (special tokens left out), as transformers.js's decode gives it. */
export function decodeIds(table: ByteTable, ids: readonly number[]): string {
  const { kinds, offsets, bytes } = table;
  const last = kinds.length - 1;
  const entryOf = (id: number): number => (id >= 0 && id < last ? id : last);
  let size = 0;
  for (const id of ids) size += offsets[entryOf(id) + 1]! - offsets[entryOf(id)]!;
  // Each run of byte pieces is decoded in one call; an added token's text ends a run.
  const run = new Uint8Array(size);
  const utf8 = new TextDecoder('utf-8', utf8Options);
  let text = '';
  let start = 0;
  let end = 0;
  for (const id of ids) {
    const entry = entryOf(id);
    const piece = bytes.subarray(offsets[entry]!, offsets[entry + 1]!);
    if (kinds[entry] === PIECE_TEXT) {
      text += utf8.decode(run.subarray(start, end)) + utf8.decode(piece);
      start = end;
    } else {
      run.set(piece, end);
      end += piece.length;
    }
  }
  return text + utf8.decode(run.subarray(start, end));
}
