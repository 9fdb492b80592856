// A message with files in it (`@path`, /file): the files are read and checked, put into the
// message as fenced blocks, and a message too long for the window is not cut silently: the
// user chooses the file's first part that fits, a summary made by the model, or neither.
// The session keeps the message as sent, files expanded: /retry, /context and a resumed
// session then show exactly what the model read, even once the file has changed or gone.
import { homedir } from 'node:os';
import { samplingParams } from '../../settings/settingsPrecedence.js';
import { sanitizeForTerminal } from '../../text/terminalText.js';
import type { ChatContext } from '../chatContext.js';
import { messageCut } from '../messageFit.js';
import { runReported } from '../reported.js';
import { sendMessage } from '../sendMessage.js';
import { messageWithFiles, type InsertedFile } from './fileBlock.js';
import { firstPartThatFits } from './fileChunks.js';
import { findMentions, withMentionsNamed } from './fileMentions.js';
import { summariseFile } from './fileSummary.js';
import { readTextFile } from './textFile.js';

/** Summaries under way, by chat: Esc aborts them. */
const summarising = new WeakMap<ChatContext, AbortController>();

/** Stops a summary under way; false when there is none. */
export function cancelFileWork(chat: ChatContext): boolean {
  const work = summarising.get(chat);
  if (!work) return false;
  work.abort();
  return true;
}

/** A line typed as a message: files it names with @ go into it. */
export function submitMessage(chat: ChatContext, text: string): void {
  if (summarising.has(chat)) return busy(chat, text);
  const mentions = findMentions(text);
  if (mentions.length === 0) return sendMessage(chat, text);
  runReported(chat.view, async () => {
    const files = await readFiles(chat, [...new Set(mentions.map((m) => m.path))], text);
    if (files === null) return;
    const byPath = new Map(files.map((f) => [f.typed, f.name]));
    const named = withMentionsNamed(
      text,
      mentions,
      mentions.map((m) => byPath.get(m.path) ?? m.path),
    );
    await sendWithFiles(chat, files, named, text);
  });
}

/** `/file PATH [question]`. */
export async function submitFile(chat: ChatContext, filePath: string, question: string, original: string): Promise<void> {
  if (summarising.has(chat)) return busy(chat, original);
  const files = await readFiles(chat, [filePath], original);
  if (files !== null) await sendWithFiles(chat, files, question, original);
}

function busy(chat: ChatContext, text: string): void {
  chat.questions.putInInput(text);
  chat.view.notice('A file is being summarised: wait for it, or press Esc to cancel it.', 'warning');
}

type ReadFile = InsertedFile & { typed: string };

/** The files, in order; null (said why, the text back in the input box) when one is refused or not confirmed. */
async function readFiles(chat: ChatContext, paths: readonly string[], original: string): Promise<ReadFile[] | null> {
  const files: ReadFile[] = [];
  const giveBack = (): null => {
    chat.questions.putInInput(original);
    return null;
  };
  for (const typed of paths) {
    let read = await readTextFile(typed, process.cwd(), homedir(), false);
    if (read.kind === 'outside') {
      const where = read.absolute;
      const yes = await confirm(chat, `${where} is outside the current folder (${process.cwd()}). Put it into the message?`);
      if (!yes) {
        chat.view.notice(`Not sent: ${sanitizeForTerminal(typed)} stays out; your message is back in the input box.`);
        return giveBack();
      }
      read = await readTextFile(typed, process.cwd(), homedir(), true);
    }
    if (read.kind === 'refused') {
      chat.view.notice(sanitizeForTerminal(read.error), 'error');
      return giveBack();
    }
    if (read.kind === 'outside') return giveBack();
    // A file is untrusted: no escape sequence of its reaches the model, the session or the screen.
    files.push({ typed, name: sanitizeForTerminal(read.name), text: sanitizeForTerminal(read.text) });
  }
  return files;
}

function confirm(chat: ChatContext, question: string): Promise<boolean> {
  return new Promise((resolve) =>
    chat.questions.ask(
      question,
      () => resolve(true),
      () => resolve(false),
    ),
  );
}

async function sendWithFiles(chat: ChatContext, files: InsertedFile[], text: string, original: string): Promise<void> {
  const message = messageWithFiles(files, text);
  const cut = await messageCut(chat, message);
  const counter = chat.meter.counter();
  const model = chat.engine.model;
  if (cut === null || counter === null || model === null) return sendMessage(chat, message);
  // The longest file is the one to shorten; the rest of the message stays as it is.
  const index = files.reduce((best, f, i) => (f.text.length > files[best]!.text.length ? i : best), 0);
  const file = files[index]!;
  const [fileTokens = 0] = await counter([file.text]);
  const room = cut.keptTokens - (cut.messageTokens - fileTokens);
  const name = file.name;
  if (room < 1) {
    chat.view.notice(
      `${name} is ${fileTokens} tokens, and the rest of your message leaves no room for it beside a ${cut.maxNewTokens}-token reply.`,
      'error',
    );
    chat.questions.putInInput(original);
    return;
  }
  chat.questions.askChoice(
    `${name} is ${fileTokens} tokens; the window has room for ${room} beside a ${cut.maxNewTokens}-token reply. ` +
      `Send its first part that fits (f), summarise it in parts with the model first (s), or cancel (Enter)?`,
    '[f/s/cancel]',
    async (answer) => {
      const choice = answer.trim().toLowerCase();
      const withFile = (replacement: InsertedFile): string =>
        messageWithFiles(
          files.map((f, i) => (i === index ? replacement : f)),
          text,
        );
      if (choice === 'f' || choice === 'first') {
        const lines = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
        const partFile = (part: string): InsertedFile => ({
          name: `${name} (its first ${lines(part)} of ${lines(file.text)} lines)`,
          text: part,
        });
        // The part is counted alone; in the message its edges may tokenize a little differently: checked, and shortened by what is over.
        let budget = room;
        for (let round = 0; round < 4 && budget > 0; round++) {
          const part = await firstPartThatFits(file.text, budget, fileTokens, counter);
          if (part === '') break;
          const message = withFile(partFile(part));
          const over = await messageCut(chat, message);
          if (over === null) return sendMessage(chat, message);
          budget -= over.messageTokens - over.keptTokens + 2;
        }
        return notSent(chat, original, `not even the start of ${name} fits`);
      }
      if (choice === 's' || choice === 'summarise' || choice === 'summarize') {
        const summary = await summarise(chat, file, fileTokens);
        if (summary === null) return notSent(chat, original, `the summary of ${name} was cancelled`);
        return sendMessage(chat, withFile({ name: `${name} (a summary the model made of it, in parts)`, text: summary }));
      }
      notSent(chat, original, 'cancelled');
    },
  );
}

function notSent(chat: ChatContext, original: string, why: string): void {
  chat.questions.putInInput(original);
  chat.view.notice(`Not sent (${why}): your message is back in the input box.`);
}

/** The model's summary of `file`, shown in progress in the live area; null when cancelled. */
async function summarise(chat: ChatContext, file: InsertedFile, tokens: number): Promise<string | null> {
  const model = chat.engine.model;
  const format = chat.format();
  const count = chat.meter.counter();
  if (!model || !format || !count) throw new Error('no model is ready to summarise the file');
  const abort = new AbortController();
  summarising.set(chat, abort);
  const show = (text: string): void => chat.view.update({ live: { text, waitingForModel: false } });
  show(`Summarising ${file.name} (${tokens} tokens) in parts that fit… Esc cancels.`);
  try {
    const summary = await summariseFile({
      engine: chat.engine,
      format,
      count,
      params: samplingParams(chat.effective().values),
      contextLength: model.contextLength,
      name: file.name,
      text: file.text,
      tokens,
      signal: abort.signal,
      onProgress: (step, steps, what) => show(`Summarising ${file.name}: ${what}, step ${step}/${steps}… Esc cancels.`),
    });
    if (summary !== null) chat.view.notice(`Summarised ${file.name} with the model; the summary goes into your message.`);
    return summary;
  } finally {
    summarising.delete(chat);
    chat.view.update({ live: null });
  }
}
