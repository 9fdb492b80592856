// The model's own byte-level BPE tokenizer (tokenizer.json) as GGUF metadata (llama.cpp's
// `gpt2` tokenizer model): the vocabulary in id order with the added tokens, padded to the
// model's vocab_size with unused [PADn] entries as llama.cpp's converter pads it, the merges,
// and the special tokens the folder's tokenizer files name.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Meta } from './ggufFile.js';

// llama.cpp's token types (gguf-py's TokenType).
const NORMAL = 1;
const CONTROL = 3;
const USER_DEFINED = 4;
const UNUSED = 5;

interface TokenizerJson {
  model: { type?: string; vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  pre_tokenizer?: { type: string; use_regex?: boolean } | null;
  post_processor?: PostProcessor | null;
}
type PostProcessor = { type: string; processors?: PostProcessor[]; single?: TemplatePiece[] };
type TemplatePiece = { SpecialToken?: { id: string } } | { Sequence?: { id: string } };

export interface TokenizerSpecials {
  bos: number;
  eos: number;
  /** Whether encoding a text prepends bos (a TemplateProcessing post-processor that starts with a special token). */
  addBos: boolean;
}

/** The token a template prepends to a single sequence, if any. */
function prependedToken(processor: PostProcessor | null | undefined): string | undefined {
  if (!processor) return undefined;
  if (processor.type === 'Sequence') {
    for (const p of processor.processors ?? []) {
      const found = prependedToken(p);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (processor.type !== 'TemplateProcessing') return undefined;
  const first = processor.single?.[0];
  return first && 'SpecialToken' in first ? first.SpecialToken?.id : undefined;
}

const tokenText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : value && typeof value === 'object' && 'content' in value ? String(value.content) : undefined;

/** bos, eos and whether bos is added, from tokenizer.json and tokenizer_config.json's names. */
export function tokenizerSpecials(
  json: TokenizerJson,
  config: Record<string, unknown>,
  idOf: (token: string) => number | undefined,
): TokenizerSpecials {
  const named = (key: string): number | undefined => {
    const text = tokenText(config[key]);
    return text === undefined ? undefined : idOf(text);
  };
  const eos = named('eos_token') ?? idOf('<|endoftext|>');
  if (eos === undefined) throw new Error('the tokenizer names no eos token and has no <|endoftext|>');
  const prepended = prependedToken(json.post_processor);
  const prependedId = prepended === undefined ? undefined : idOf(prepended);
  return { bos: prependedId ?? named('bos_token') ?? eos, eos, addBos: prependedId !== undefined };
}

/** GGUF tokenizer metadata from a folder's tokenizer.json (and tokenizer_config.json when present). */
export async function tokenizerMeta(folder: string, vocabSize?: number): Promise<Record<string, Meta>> {
  const json = JSON.parse(await readFile(path.join(folder, 'tokenizer.json'), 'utf8')) as TokenizerJson;
  if (json.model.type !== undefined && json.model.type !== 'BPE') throw new Error(`tokenizer.json: a ${json.model.type} model, not BPE`);
  // llama.cpp's `gpt-2` pre-tokenizer is GPT-2's regex, which a ByteLevel pre-tokenizer with its regex applies.
  const pre = json.pre_tokenizer;
  if (pre?.type !== 'ByteLevel' || pre.use_regex === false) throw new Error(`tokenizer.json: pre-tokenizer ${pre?.type} is not GPT-2's`);
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await readFile(path.join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const tokens: (string | undefined)[] = [];
  const types: number[] = [];
  for (const [token, id] of Object.entries(json.model.vocab)) {
    tokens[id] = token;
    types[id] = NORMAL;
  }
  for (const added of json.added_tokens ?? []) {
    tokens[added.id] = added.content;
    types[added.id] = added.special ? CONTROL : USER_DEFINED;
  }
  const size = vocabSize ?? tokens.length;
  if (tokens.length > size) throw new Error(`the tokenizer has ${tokens.length} tokens, more than vocab_size ${size}`);
  const ids = new Map<string, number>();
  const padded: string[] = [];
  for (let id = 0; id < size; id++) {
    const token = tokens[id];
    if (token === undefined) {
      padded.push(`[PAD${id}]`);
      types[id] = UNUSED;
    } else {
      padded.push(token);
      ids.set(token, id);
    }
  }
  const specials = tokenizerSpecials(json, config, (t) => ids.get(t));
  const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  return {
    'tokenizer.ggml.model': { type: 'str', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'str', value: 'gpt-2' },
    'tokenizer.ggml.tokens': { type: 'strs', value: padded },
    'tokenizer.ggml.token_type': { type: 'i32s', value: types.slice(0, size) },
    'tokenizer.ggml.merges': { type: 'strs', value: merges },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: specials.bos },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: specials.eos },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: specials.addBos },
  };
}
