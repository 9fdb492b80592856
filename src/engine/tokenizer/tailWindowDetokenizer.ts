// For tokenizers whose decoding is not byte-level (SentencePiece-style Metaspace and
// ByteFallback: Gemma, Mistral, Llama-2), the tokenizer itself decodes, but only a short
// window at the end of the reply, not all of it: the window from the last-but-one point
// where text came out, decoded with and without the newest tokens, and the difference is the
// new text (the prefix/read offsets of Hugging Face's TextStreamer and vLLM). The window
// starts at a token that already produced text, so a decoder's start-of-text rule (dropping
// the first token's leading space) applies alike to both decodes and cancels out.
import type { IncrementalDetokenizer } from './byteLevelDetokenizer.js';

/** Decodes each list of ids (special tokens left out; an empty list is ''). */
export type DecodeMany = (lists: number[][]) => Promise<string[]>;

export class TailWindowDetokenizer implements IncrementalDetokenizer {
  private readonly ids: number[] = [];
  /** Where the window starts. */
  private prefixOffset = 0;
  /** Where the tokens whose text is not out yet start. */
  private readOffset = 0;
  private shown = '';

  constructor(private readonly decodeMany: DecodeMany) {}

  async push(id: number): Promise<string> {
    this.ids.push(id);
    const [before, after] = await this.decodeMany([this.ids.slice(this.prefixOffset, this.readOffset), this.ids.slice(this.prefixOffset)]);
    // An incomplete character (U+FFFD at the end) waits for the tokens that complete it.
    if (after!.length <= before!.length || after!.endsWith('\uFFFD') || !after!.startsWith(before!)) return '';
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return this.take(after!.slice(before!.length));
  }

  /**
   * The rest of the reply's text, from one decode of all of it, which also settles any
   * difference the windows could not see; text already given out stands.
   */
  async finish(): Promise<string> {
    if (this.ids.length === 0) return '';
    const [all] = await this.decodeMany([this.ids]);
    return all!.length > this.shown.length && all!.startsWith(this.shown) ? this.take(all!.slice(this.shown.length)) : '';
  }

  private take(text: string): string {
    this.shown += text;
    return text;
  }
}
