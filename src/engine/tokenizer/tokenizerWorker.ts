// TokenizerWorker: the model's tokenizer, in a thread of its own. Its vocabulary and merges
// are most of the engine's JS heap (about 20 of 32 MB for GPT-2). At long context every
// decode step allocates tens of MB of present tensors, so V8 runs a full GC nearly every
// token in the thread that runs the model; without the tokenizer there, each has far less
// to mark.
import { parentPort, workerData } from 'node:worker_threads';
import type { ChatTemplate } from '../protocol.js';
import type { FromTokenizer, ToTokenizer, TokenizerInfo, TokenizerWorkerData } from './tokenizerProtocol.js';
import { byteLevelTable, decodeSpecOf, tableBuffers, type ByteTable } from './byteLevelTable.js';
import { decodeIds } from './byteLevelDetokenizer.js';
import { inputBytesPerToken } from './inputBytesPerToken.js';
import { errorMessage } from '../../errors.js';
import { loadTokenizingTransformers } from './tokenizingTransformers.js';

const port = parentPort;
if (!port) throw new Error('tokenizerWorker must run in a worker thread');
const data = workerData as TokenizerWorkerData;
const send = (msg: FromTokenizer, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
const DECODE_OPTIONS = { skip_special_tokens: true, clean_up_tokenization_spaces: false };

const { AutoTokenizer, env, LogLevel } = loadTokenizingTransformers();
env.cacheDir = data.cacheDir;
env.allowRemoteModels = !data.offline;
env.allowLocalModels = true;
env.logLevel = LogLevel.ERROR;

try {
  const tokenizer = await AutoTokenizer.from_pretrained(data.ref, {
    local_files_only: data.offline,
    progress_callback: (p) => {
      const { status } = p;
      const file = 'file' in p ? p.file : undefined;
      const progress = status === 'progress' ? { status, file, loaded: p.loaded, total: p.total } : { status, file };
      send({ type: 'progress', progress });
    },
  });
  port.on('message', (msg: ToTokenizer) => {
    try {
      if (msg.type === 'encode') {
        send({ type: 'encoded', id: msg.id, ids: msg.texts.map((t) => tokenizer.encode(t, { add_special_tokens: false })) });
      } else {
        // transformers.js refuses to decode an empty id list.
        send({
          type: 'decoded',
          id: msg.id,
          texts: msg.lists.map((ids) => (ids.length === 0 ? '' : tokenizer.decode(ids, DECODE_OPTIONS))),
        });
      }
    } catch (err) {
      send({ type: 'error', id: msg.id, message: errorMessage(err) });
    }
  });
  const info = tokenizerInfo(tokenizer);
  const chatTemplate = chatTemplateOf(tokenizer);
  if (chatTemplate) chatTemplate.specialTokens = info.specialTokens.map((t) => t.content);
  const byteTable = checkedByteTable(tokenizer);
  info.maxTokenBytes = inputBytesPerToken(tokenizer._tokenizerJSON, byteTable);
  send({ type: 'ready', chatTemplate, info, byteTable }, byteTable ? tableBuffers(byteTable) : []);
} catch (err) {
  send({ type: 'failed', message: errorMessage(err) });
}

/**
 * The byte table of a byte-level tokenizer, checked against the tokenizer's own decode on a
 * sample of ids (single ids across the vocabulary, every added token, ids past the end, and
 * runs of single-byte tokens that split characters). Null if it is not byte-level or differs
 * (a transformers.js that decodes otherwise): replies then decode through this thread.
 */
function checkedByteTable(tokenizer: {
  _tokenizerJSON?: unknown;
  _tokenizerConfig?: unknown;
  decode(ids: number[], options: typeof DECODE_OPTIONS): string;
}): ByteTable | null {
  const spec = decodeSpecOf(tokenizer._tokenizerJSON, tokenizer._tokenizerConfig);
  const table = spec && byteLevelTable(spec);
  if (!spec || !table) return null;
  const count = spec.vocab.length;
  const samples: number[][] = [];
  for (let id = 0; id < count; id += Math.max(1, Math.floor(count / 512))) samples.push([id]);
  for (let id = 0; id < count; id++) if (spec.addedTokens.has(spec.vocab[id] ?? '')) samples.push([id, 0, id]);
  samples.push([count], [count + 1000, 0]);
  let seed = 1;
  const next = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  // Byte-level vocabularies start with the 256 single bytes: runs of them split characters.
  for (let i = 0; i < 64; i++) samples.push(Array.from({ length: 8 }, () => next(i % 2 === 0 ? Math.min(256, count) : count)));
  try {
    return samples.every((ids) => decodeIds(table, ids) === tokenizer.decode(ids, DECODE_OPTIONS)) ? table : null;
  } catch {
    return null;
  }
}

/** The tokenizer's default chat template: a string, or the entry named "default" of a list. */
function chatTemplateOf(tokenizer: { chat_template?: unknown; bos_token?: unknown; eos_token?: unknown }): ChatTemplate | null {
  const raw = tokenizer.chat_template;
  const template =
    typeof raw === 'string'
      ? raw
      : Array.isArray(raw)
        ? (raw as { name?: unknown; template?: unknown }[]).find((t) => t.name === 'default')?.template
        : undefined;
  if (typeof template !== 'string' || template.trim() === '') return null;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return { template, bosToken: text(tokenizer.bos_token), eosToken: text(tokenizer.eos_token) };
}

interface TokenizerLike {
  all_special_tokens?: unknown;
  all_special_ids?: unknown;
  bos_token?: unknown;
  bos_token_id?: unknown;
  eos_token_id?: unknown;
  encode(text: string, options: { add_special_tokens: boolean }): number[];
}

function tokenizerInfo(tokenizer: TokenizerLike): TokenizerInfo {
  const contents = Array.isArray(tokenizer.all_special_tokens) ? (tokenizer.all_special_tokens as unknown[]) : [];
  const ids = Array.isArray(tokenizer.all_special_ids) ? (tokenizer.all_special_ids as unknown[]) : [];
  const specialTokens = contents.flatMap((content, i) => {
    const id = ids[i];
    return typeof content === 'string' && typeof id === 'number' ? [{ content, id }] : [];
  });
  const bosId = tokenizer.bos_token_id;
  const bos = typeof tokenizer.bos_token === 'string' && typeof bosId === 'number' ? { content: tokenizer.bos_token, id: bosId } : null;
  // Whatever the config claims, what encode() does is what counts.
  const withSpecial = tokenizer.encode('a', { add_special_tokens: true });
  const plain = tokenizer.encode('a', { add_special_tokens: false });
  const addsBos = bos !== null && withSpecial[0] === bos.id && plain[0] !== bos.id;
  const eosId = tokenizer.eos_token_id;
  return { specialTokens, bos, addsBos, eosTokenId: typeof eosId === 'number' ? eosId : null };
}
