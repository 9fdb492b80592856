// Tokenizers for the detokenizer tests: the fixtures' and generated models' own, variants of
// GPT-2's with added tokens and a wrapped decoder, and small SentencePiece-style ones
// (Metaspace, ByteFallback) as Llama-2, Mistral and Gemma have.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AutoTokenizer, env, LogLevel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { HF_GPT2_TINY } from './fixtures.js';

export const DECODE_OPTIONS = { skip_special_tokens: true, clean_up_tokenization_spaces: false };

export interface LoadedTokenizer {
  tokenizer: PreTrainedTokenizer;
  json: Record<string, unknown>;
  config: Record<string, unknown>;
  /** transformers.js's decode of the whole list ('' for none, which it refuses). */
  decode(ids: number[]): string;
}

export async function loadTokenizer(dir: string): Promise<LoadedTokenizer> {
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const json = JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const config = JSON.parse(await readFile(path.join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  return { tokenizer, json, config, decode: (ids) => (ids.length === 0 ? '' : tokenizer.decode(ids, DECODE_OPTIONS)) };
}

async function writeFolder(dir: string, json: unknown, config: unknown): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

const added = (id: number, content: string, special: boolean) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special,
});

/**
 * GPT-2's tokenizer with added tokens that are not special (shown as written, one with
 * non-ASCII text), one more special one, vocabulary entries with characters outside the
 * byte alphabet, a vocabulary token listed as an
 * additional_special_tokens (so decode drops it), and, with `wrapped`, the ByteLevel decoder
 * inside a Sequence.
 */
export async function gpt2Variant(dir: string, wrapped: boolean): Promise<string> {
  const json = JSON.parse(await readFile(path.join(HF_GPT2_TINY, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const config = JSON.parse(await readFile(path.join(HF_GPT2_TINY, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  json['added_tokens'] = [
    ...(json['added_tokens'] as unknown[]),
    added(50257, '<tool>', false),
    added(50258, 'naïve ☕', false),
    added(50259, '<|sep|>', true),
  ];
  // Characters outside the byte alphabet (a surrogate pair among them), which decode spells as 0 bytes.
  const vocab = (json['model'] as { vocab: Record<string, number> }).vocab;
  vocab['a😀b'] = 50260;
  vocab['中'] = 50261;
  if (wrapped) json['decoder'] = { type: 'Sequence', decoders: [json['decoder']] };
  config['additional_special_tokens'] = ['<|sep|>', 'Ġthe'];
  return writeFolder(dir, json, config);
}

export const METASPACE_DECODERS = {
  /** Llama-2 and Mistral 7B. */
  llama2: {
    type: 'Sequence',
    decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
      { type: 'ByteFallback' },
      { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 },
    ],
  },
  /** Gemma. */
  gemma: {
    type: 'Sequence',
    decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }],
  },
  /** Plain Metaspace (older SentencePiece conversions). */
  metaspace: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
} as const;

/** A small SentencePiece-style BPE vocabulary: specials, the 256 byte tokens <0x00>…<0xFF>, some pieces. */
export async function sentencePieceTokenizer(dir: string, decoder: keyof typeof METASPACE_DECODERS): Promise<string> {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const pieces = ['▁', '▁▁', '▁the', '▁a', 'a', 'b', 'é', '▁hello', 'lo', '😀', '▁é', 'x▁', '.', '▁<s>'];
  pieces.forEach((p, i) => (vocab[p] = 259 + i));
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<unk>', true), added(1, '<s>', true), added(2, '</s>', true), added(259 + pieces.length, '<extra>', false)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    post_processor: null,
    decoder: METASPACE_DECODERS[decoder],
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges: [],
    },
  };
  const config = {
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    clean_up_tokenization_spaces: false,
    tokenizer_class: 'LlamaTokenizer',
  };
  return writeFolder(dir, json, config);
}
