// TokenizerWorker: the model's tokenizer, in a thread of its own. Its vocabulary and merges
// are most of the engine's JS heap (about 20 of 32 MB for GPT-2). At long context every
// decode step allocates tens of MB of present tensors, so V8 runs a full GC nearly every
// token in the thread that runs the model; without the tokenizer there, each has far less
// to mark.
import { parentPort, workerData } from 'node:worker_threads';
import type { ChatTemplate } from './protocol.js';
import type { FromTokenizer, ToTokenizer, TokenizerWorkerData } from './tokenizerProtocol.js';

const port = parentPort;
if (!port) throw new Error('tokenizerWorker must run in a worker thread');
const data = workerData as TokenizerWorkerData;
const send = (msg: FromTokenizer): void => port.postMessage(msg);

const { AutoTokenizer, env, LogLevel } = await import('@huggingface/transformers');
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
        const text =
          msg.ids.length === 0
            ? ''
            : tokenizer.decode(msg.ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
        send({ type: 'decoded', id: msg.id, text });
      }
    } catch (err) {
      send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
  send({ type: 'ready', chatTemplate: chatTemplateOf(tokenizer) });
} catch (err) {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
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
