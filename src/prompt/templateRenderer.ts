// The prompt format of instruct models: the tokenizer's own chat template (Jinja), rendered
// over the whole window at once, as the model's authors render it. What a template does
// differently from ChatML is learnt once by rendering small probes:
// - whether it accepts a system message (Gemma raises): if not, the persona opens the first
//   user message, as those models' docs advise;
// - whether it insists that roles alternate (Mistral, Gemma): if so, consecutive messages of
//   one role (a message whose reply failed, then another) are sent as one;
// - whether appending turns leaves the text before them alone (prefixStable; Mistral moves
//   the system prompt into the last user turn, so it does not);
// - which special tokens close a turn and open a user turn: the reply stops at either.
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import type { ChatTemplate } from '../engine/protocol.js';
import { cutAtStop, tidy, type Message, type PromptFormat, type PromptPieces } from './promptShape.js';

export interface TemplateOptions {
  /** What the template's strftime_now reports (Llama-3.2 puts "today" in its system header). */
  date?: Date;
  /**
   * The tokenizer's BOS when it adds one to plain text: the prompt starts with it once,
   * whether or not the template writes bos_token itself.
   */
  bos?: string;
}

interface ChatMessage {
  role: string;
  content: string;
}

// Stands for a message's content, to find where each message lands in the rendered text.
const mark = (key: string): string => `\u2063${key}\u2063`;
const PERSONA = mark('p');
const MARK_PATTERN = /\u2063(p|\d+)\u2063/g;

export function templateFormat(chat: ChatTemplate, options: TemplateOptions = {}): PromptFormat {
  const template = new Template(chat.template);
  const date = options.date ?? new Date();
  const bos = options.bos ?? '';
  const renderMessages = (messages: ChatMessage[], cue: boolean): string =>
    renderWith(template, {
      messages,
      add_generation_prompt: cue,
      bos_token: chat.bosToken,
      eos_token: chat.eosToken,
      strftime_now: (format: string) => strftime(date, format),
    });
  const systemRole = accepts(() =>
    renderMessages(
      [
        { role: 'system', content: mark('s') },
        { role: 'user', content: 'u' },
      ],
      true,
    ).includes(mark('s')),
  );
  const alternates = !accepts(
    () =>
      renderMessages(
        [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b' },
        ],
        true,
      ) !== '',
  );

  const shape = (persona: string | null, turns: readonly { role: string; content: string }[]): ChatMessage[] => {
    const messages: ChatMessage[] = [];
    for (const turn of turns) {
      const last = messages.at(-1);
      if (alternates && last !== undefined && last.role === turn.role) last.content += `\n\n${turn.content}`;
      else messages.push({ role: turn.role, content: turn.content });
    }
    if (persona !== null) {
      const first = messages[0];
      if (systemRole) messages.unshift({ role: 'system', content: persona });
      else if (first?.role === 'user') first.content = `${persona}\n\n${first.content}`;
      else messages.unshift({ role: 'user', content: persona });
    }
    return messages;
  };
  const withBos = (text: string): string => (bos !== '' && !text.startsWith(bos) ? bos + text : text);
  const render = (persona: string | null, turns: readonly Message[]): string =>
    withBos(
      renderMessages(
        shape(
          persona === null ? null : tidy(persona),
          turns.map((t) => ({ role: t.role, content: tidy(t.text) })),
        ),
        true,
      ),
    );

  const pieces = (persona: string | null, turns: readonly Message[]): PromptPieces => {
    const skeleton = renderMessages(
      shape(
        persona === null ? null : PERSONA,
        turns.map((t, i) => ({ role: t.role, content: mark(String(i)) })),
      ),
      true,
    );
    const contents = turns.map((t) => tidy(t.text));
    const personaText = persona === null ? '' : tidy(persona);
    const fill = (text: string): string =>
      text.replace(MARK_PATTERN, (_, key: string) => (key === 'p' ? personaText : (contents[Number(key)] ?? '')));
    let pos = 0;
    let personaPiece = '';
    const personaAt = skeleton.indexOf(PERSONA);
    const firstAt = turns.length > 0 ? skeleton.indexOf(mark('0')) : -1;
    if (personaAt !== -1 && (firstAt === -1 || personaAt < firstAt)) {
      pos = personaAt + PERSONA.length;
      personaPiece = skeleton.slice(0, pos);
    }
    const turnPieces = turns.map((_, i) => {
      const at = skeleton.indexOf(mark(String(i)), pos);
      if (at === -1) return '';
      const end = at + mark(String(i)).length;
      const piece = skeleton.slice(pos, end);
      pos = end;
      return piece;
    });
    const frame = skeleton.slice(pos) + (bos !== '' && !skeleton.startsWith(bos) ? bos : '');
    return { persona: fill(personaPiece), turns: turnPieces.map(fill), frame: fill(frame) };
  };

  const stop = turnMarkers(renderMessages, chat);
  return {
    name: 'chat-template',
    render,
    pieces,
    stop,
    prefixStable: accepts(() =>
      [null, 'P'].every((persona) => {
        const first = render(persona, [{ role: 'user', text: 'q1' }]);
        const next = render(persona, [
          { role: 'user', text: 'q1' },
          { role: 'assistant', text: 'r1' },
          { role: 'user', text: 'q2' },
        ]);
        return next.startsWith(`${first}r1`);
      }),
    ),
    cleanReply: (raw) => cutAtStop(raw, stop).trim(),
  };
}

/** The special token that closes an assistant turn, the one that opens a user turn, and eos. */
function turnMarkers(renderMessages: (messages: ChatMessage[], cue: boolean) => string, chat: ChatTemplate): string[] {
  const reply = mark('r');
  const next = mark('n');
  let markers: string[] = [];
  try {
    const text = renderMessages(
      [
        { role: 'user', content: 'u' },
        { role: 'assistant', content: reply },
        { role: 'user', content: next },
      ],
      false,
    );
    const between = text.slice(text.indexOf(reply) + reply.length, text.indexOf(next));
    const closing = firstSpecial(between, chat.specialTokens);
    const afterClosing = closing === null ? between : between.slice(between.indexOf(closing) + closing.length);
    const opening = firstSpecial(afterClosing, chat.specialTokens);
    markers = [closing, opening].filter((m): m is string => m !== null);
  } catch {
    // A template that renders no plain exchange still stops at eos.
  }
  return [...new Set([...markers, chat.eosToken].filter((m) => m !== ''))];
}

// Special tokens look like these when the tokenizer does not list them: <|im_end|>,
// <end_of_turn>, </s>, [INST].
const SPECIAL_PATTERN = /<\|[^|<>\s]+\|>|<\/?[a-z_]+>|\[\/?[A-Z_]+\]/;

function firstSpecial(text: string, specials: readonly string[] | undefined): string | null {
  if (specials !== undefined && specials.length > 0) {
    let best: { at: number; token: string } | null = null;
    for (const token of specials) {
      const at = token === '' ? -1 : text.indexOf(token);
      if (at !== -1 && (best === null || at < best.at || (at === best.at && token.length > best.token.length))) best = { at, token };
    }
    return best?.token ?? null;
  }
  return SPECIAL_PATTERN.exec(text)?.[0] ?? null;
}

/**
 * Template.render with our own globals: it declares strftime_now itself (today, in the local
 * time zone), and a variable cannot be declared twice, so the session's date could not be
 * passed in. These are the globals @huggingface/jinja's render declares.
 */
function renderWith(template: Template, items: Record<string, unknown>): string {
  const env = new Environment();
  const globals: Record<string, unknown> = {
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
    raise_exception: (message: unknown) => {
      throw new Error(String(message));
    },
    range: pythonRange,
    ...items,
  };
  for (const [name, value] of Object.entries(globals)) env.set(name, value);
  const result = new Interpreter(env).run(template.parsed);
  return String(result.value);
}

function pythonRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

function accepts(probe: () => boolean): boolean {
  try {
    return probe();
  } catch {
    return false;
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Python's strftime for the fields chat templates use, in UTC and English whatever the locale. */
export function strftime(date: Date, format: string): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return format.replace(/%[YymdbBaAHMS%]/g, (field) => {
    switch (field) {
      case '%Y':
        return String(date.getUTCFullYear());
      case '%y':
        return pad(date.getUTCFullYear() % 100);
      case '%m':
        return pad(date.getUTCMonth() + 1);
      case '%d':
        return pad(date.getUTCDate());
      case '%b':
        return MONTHS[date.getUTCMonth()]!.slice(0, 3);
      case '%B':
        return MONTHS[date.getUTCMonth()]!;
      case '%a':
        return DAYS[date.getUTCDay()]!.slice(0, 3);
      case '%A':
        return DAYS[date.getUTCDay()]!;
      case '%H':
        return pad(date.getUTCHours());
      case '%M':
        return pad(date.getUTCMinutes());
      case '%S':
        return pad(date.getUTCSeconds());
      default:
        return '%';
    }
  });
}
