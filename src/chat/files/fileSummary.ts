// Summarising a file too long for the window, with the model in use: the text in chunks that
// each fit beside a summary's length, a summary of each, then a summary of the summaries (in
// rounds, while they do not fit one prompt). Every summary is a real generation through the
// engine, one at a time, each prompt a fresh one-message conversation in the model's format.
import type { EngineClient } from '../../engine/engineClient.js';
import type { SamplingParams } from '../../engine/protocol.js';
import { addUser } from '../../prompt/conversation.js';
import type { PromptFormat } from '../../prompt/promptFormat.js';
import type { CountTokens } from '../../prompt/tokenCountCache.js';
import { newSession } from '../../session/sessionStore.js';
import { chatTurn } from '../chatTurn.js';
import { fileBlock } from './fileBlock.js';
import { chunksThatFit } from './fileChunks.js';

export interface SummaryInput {
  engine: EngineClient;
  format: PromptFormat;
  count: CountTokens;
  params: SamplingParams;
  contextLength: number;
  name: string;
  text: string;
  /** The file's tokens as a block. */
  tokens: number;
  /** Called before each generation: which step of how many (the rounds' totals may grow). */
  onProgress: (step: number, steps: number, what: string) => void;
  signal: AbortSignal;
}

/** Tokens left for the prompt's own framing (template markers, the instruction). */
const FRAME_TOKENS = 48;

export const chunkPrompt = (name: string, part: string, index: number, total: number): string =>
  `${fileBlock({ name: `${name} (part ${index} of ${total})`, text: part })}\n\nSummarise this part of the file: its main points and facts, briefly.`;

export const combinePrompt = (name: string, summaries: readonly string[]): string =>
  `${summaries.map((s, i) => `Summary of part ${i + 1} of ${name}:\n${s.trim()}`).join('\n\n')}\n\n` +
  `These are summaries of consecutive parts of ${name}. Write one summary of the whole file from them.`;

/** The summary of the file, or null when cancelled. Throws with a one-line message when a generation fails. */
export async function summariseFile(input: SummaryInput): Promise<string | null> {
  const { params, contextLength, name } = input;
  const room = contextLength - params.maxNewTokens - FRAME_TOKENS;
  if (room < 64) throw new Error(`the window leaves only ${Math.max(0, room)} tokens beside a ${params.maxNewTokens}-token summary`);
  const wrap = (part: string): string => chunkPrompt(name, part, 99, 99);
  const chunks = await chunksThatFit(input.text, room, input.tokens, input.count, wrap);
  let step = 0;
  let steps = chunks.length + 1;
  let summaries: string[] = [];
  for (const [i, chunk] of chunks.entries()) {
    input.onProgress(++step, steps, `part ${i + 1}/${chunks.length}`);
    const summary = await generate(input, chunkPrompt(name, chunk, i + 1, chunks.length));
    if (summary === null) return null;
    summaries.push(summary);
  }
  if (summaries.length === 1) return summaries[0]!;
  // Summaries of summaries, in groups that fit, until one is left.
  for (;;) {
    const groups = await groupsThatFit(summaries, room, input.count, (group) => combinePrompt(name, group));
    if (groups.length > 1) steps += groups.length;
    const next: string[] = [];
    for (const group of groups) {
      input.onProgress(++step, steps, 'the summaries together');
      const summary = await generate(input, combinePrompt(name, group));
      if (summary === null) return null;
      next.push(summary);
    }
    if (next.length === 1) return next[0]!;
    summaries = next;
  }
}

/** Consecutive groups of `items` whose prompts fit `budget`; a group has two items at least, so the rounds end. */
async function groupsThatFit(
  items: string[],
  budget: number,
  count: CountTokens,
  prompt: (group: string[]) => string,
): Promise<string[][]> {
  const groups: string[][] = [];
  let current: string[] = [];
  for (const item of items) {
    const candidate = [...current, item];
    const [tokens = Infinity] = await count([prompt(candidate)]);
    if (tokens <= budget || current.length < 2) current = candidate;
    else {
      groups.push(current);
      current = [item];
    }
  }
  if (current.length > 0) {
    if (current.length === 1 && groups.length > 0) groups[groups.length - 1]!.push(current[0]!);
    else groups.push(current);
  }
  return groups;
}

async function generate(input: SummaryInput, prompt: string): Promise<string | null> {
  const session = { ...newSession('file-summary'), conversation: addUser(newSession('file-summary').conversation, prompt) };
  let text = '';
  for await (const event of chatTurn({
    engine: input.engine,
    session,
    params: input.params,
    format: input.format,
    countTokens: input.count,
    signal: input.signal,
  })) {
    if (event.type === 'delta') text += event.text;
    else if (event.type === 'done') {
      if (input.signal.aborted || event.result.interrupted) return null;
      if (event.result.reason === 'error')
        throw new Error(`summarising ${input.name} failed: ${event.result.error ?? 'the generation failed'}`);
    }
  }
  return text;
}
