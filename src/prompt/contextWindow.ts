// Which part of a conversation fits in the model's context, and the prompt for it (as text,
// and as messages for an engine that formats them itself, a server's chat template).
//
// Rules:
// - budget = contextLength − maxNewTokens; the prompt never exceeds it, counted with the
//   model's tokenizer on the final rendered text, or as the engine counts the messages
//   (countWindow) (BPE counts of parts do not add up exactly, and a chat template renders a
//   window as a whole, so part counts only guide the choice and the whole prompt is the judge);
// - the newest user message is always in; a message too long on its own is cut from its
//   start behind a visible marker; the persona is kept whenever it fits beside that message
//   (the message keeping at least a quarter of the budget);
// - earlier turns go in newest first, by whole exchanges (a user turn and what follows it);
// - the window slides in steps: when turns must be dropped it drops enough that the
//   prompt falls to ~60 % of the budget, and later windows keep that start (passed back
//   in as `start`) for as long as it fits, so the prompt prefix stays the same;
// - what cannot fit is never tokenized: a text needs at least one token per `maxTokenBytes`
//   of its UTF-8 (and has at least as many bytes as UTF-16 units), so a text longer than
//   budget × maxTokenBytes is over the budget as it stands, and earlier turns past the point
//   where such lower bounds already fill the budget are out without being counted;
// - what fell out is reported, so the UI can say how many turns are out of context.
import type { Message, PromptFormat } from './promptFormat.js';
import { checkMaxNewTokens } from '../settings/settingsSchema.js';
import type { CountTokens } from './tokenCountCache.js';
import type { Conversation, Turn } from './conversationTypes.js';

/** Put in front of a message that was cut, where its start is missing. */
export const TRUNCATION_MARKER = '[\u2026] ';

export interface WindowOptions {
  contextLength: number;
  maxNewTokens: number;
  /** The model's token counter, ideally through a TokenCountCache. */
  countTokens: CountTokens;
  /**
   * The exact count of a whole window, when the engine sends it as messages that the other
   * side formats (a server's chat template); without it the rendered prompt is counted.
   */
  countWindow?: (prompt: string, messages: readonly Message[]) => Promise<number>;
  format: PromptFormat;
  /** `start` of the previous window, so this one keeps the same prefix when it can. */
  start?: string | null;
  /** Share of the budget a slide brings the prompt down to; default 0.6. */
  slideTarget?: number;
  /** Share of the budget a cut newest message keeps before the persona yields; default 0.25. */
  minUserShare?: number;
  /** The most UTF-8 bytes one token stands for (ModelInfo.maxTokenBytes); without it every text is counted. */
  maxTokenBytes?: number | null | undefined;
}

export interface ContextWindow {
  prompt: string;
  /**
   * The same window as messages: the persona as a system message (when it is in), then the
   * included turns, the newest user message last (cut as in `prompt` when it was cut).
   */
  messages: Message[];
  /** Token count of the window (`prompt`, or `messages` where countWindow counts them); never above `budget`. */
  promptTokens: number;
  budget: number;
  includedTurnIds: string[];
  /** Earlier turns that are out of context, oldest first. */
  droppedTurnIds: string[];
  droppedCount: number;
  /** Id of the first included turn: pass it back as `start` for the next window. */
  start: string;
  persona: 'none' | 'included' | 'dropped';
  /** The newest user message was cut from its start to fit. */
  truncated: boolean;
  /** This window dropped turns the previous one (`start`) still had: the prefix changed. */
  slid: boolean;
}

export type ContextWindowErrorCode = 'max-new-tokens' | 'too-small' | 'no-user-message';

export class ContextWindowError extends Error {
  constructor(
    readonly code: ContextWindowErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ContextWindowError';
  }
}

interface Plan {
  withPersona: boolean;
  /** Index of the first earlier turn in the window (= the newest user turn's index when none). */
  first: number;
  /** The newest user message as sent: whole, or cut behind the marker. */
  userText: string;
  truncated: boolean;
}

export async function buildWindow(conversation: Conversation, options: WindowOptions): Promise<ContextWindow> {
  const { contextLength, maxNewTokens, format, countTokens } = options;
  const limitError = checkMaxNewTokens(maxNewTokens, contextLength);
  if (limitError !== null) throw new ContextWindowError('max-new-tokens', limitError);
  const budget = contextLength - maxNewTokens;

  const turns = conversation.turns;
  const last = turns.length - 1;
  const newest = turns[last];
  if (newest === undefined || newest.role !== 'user') {
    throw new ContextWindowError('no-user-message', 'the conversation does not end with a user message to reply to');
  }
  const newestText = newest.text;

  const persona = conversation.persona;
  // Part counts guide the choice; the rendered window is always counted whole.
  const pieces = format.pieces(persona, turns);
  const bound = tokenBound(budget, options.maxTokenBytes);
  const counted = earliestWorthCounting(pieces.turns, budget, bound);
  const counts = await countWithin(countTokens, bound, [
    ...pieces.turns.slice(counted),
    pieces.frame,
    ...(persona === null ? [] : [pieces.persona]),
  ]);
  // Earlier turns not counted cannot be in the window: the ones after them already fill it.
  const turnTokens = [...new Array<number>(counted).fill(Infinity), ...counts.slice(0, turns.length - counted)];
  const cueTokens = counts[turns.length - counted] as number;
  const personaTokens = persona === null ? 0 : (counts[turns.length - counted + 1] as number);
  const userTokens = turnTokens[last] as number;
  const newestOver = bound.over(pieces.turns[last] ?? '');
  const personaOver = persona !== null && bound.over(pieces.persona);

  const windowTurns = (plan: Plan): Message[] => [
    ...turns.slice(plan.first, last),
    plan.truncated ? { role: 'user', text: plan.userText } : newest,
  ];
  const assemble = (plan: Plan): string => format.render(plan.withPersona ? persona : null, windowTurns(plan));
  const messagesOf = (plan: Plan): Message[] => [
    ...(plan.withPersona && persona !== null ? [{ role: 'system' as const, text: persona }] : []),
    ...windowTurns(plan).map((t) => ({ role: t.role, text: t.text })),
  ];
  const exactTokens = async (plan: Plan): Promise<number> => {
    const prompt = assemble(plan);
    return options.countWindow ? options.countWindow(prompt, messagesOf(plan)) : ((await countTokens([prompt]))[0] as number);
  };

  const minUserTokens = Math.min(userTokens, Math.floor(budget * (options.minUserShare ?? 0.25)));
  // Part counts can be off at the joins; when they say no, ask the real count before
  // giving up the persona.
  const personaFits =
    persona !== null &&
    (personaTokens + minUserTokens + cueTokens <= budget ||
      (!newestOver &&
        !personaOver &&
        (await exactTokens({ withPersona: true, first: last, userText: newestText, truncated: false })) <= budget));
  const fixedTokens = (personaFits ? personaTokens : 0) + cueTokens + userTokens;

  let plan: Plan;
  let promptTokens: number;
  if (fixedTokens > budget) {
    ({ plan, promptTokens } = await cutNewest());
  } else {
    const groups = exchangeStarts(turns);
    plan = { withPersona: personaFits, first: chooseFirst(groups, budget - fixedTokens), userText: newestText, truncated: false };
    // The estimate from part counts can be off by a few tokens at segment joins:
    // give up the oldest exchange until the real count fits.
    for (;;) {
      promptTokens = await exactTokens(plan);
      if (promptTokens <= budget) break;
      const next = groups.find((g) => g > plan.first);
      if (next === undefined) {
        ({ plan, promptTokens } = await cutNewest());
        break;
      }
      plan = { ...plan, first: next };
    }
  }

  const prompt = assemble(plan);
  const firstId = (turns[plan.first] as Turn).id;
  const droppedTurnIds = turns.slice(0, plan.first).map((t) => t.id);
  const previousStart = options.start ? turns.findIndex((t) => t.id === options.start) : -1;
  return {
    prompt,
    messages: messagesOf(plan),
    promptTokens,
    budget,
    includedTurnIds: turns.slice(plan.first).map((t) => t.id),
    droppedTurnIds,
    droppedCount: droppedTurnIds.length,
    start: firstId,
    persona: persona === null ? 'none' : plan.withPersona ? 'included' : 'dropped',
    truncated: plan.truncated,
    slid: plan.first > Math.max(previousStart, 0),
  };

  // Earlier turns: all if they fit; else from the previous start if that still fits;
  // else slide, keeping newest-first exchanges up to the slide target. The exchange just
  // before the new message stays whenever it fits at all: a reply to "what did you just
  // say?" needs it, and it costs only this one window's headroom.
  function chooseFirst(groups: number[], room: number): number {
    const tokensFrom = (from: number): number => turnTokens.slice(from, last).reduce((a, b) => a + b, 0);
    if (tokensFrom(0) <= room) return 0;
    const startIndex = options.start ? turns.findIndex((t) => t.id === options.start) : -1;
    if (startIndex > 0) {
      const group = groups.findLast((g) => g <= startIndex) ?? last;
      if (tokensFrom(group) <= room) return group;
    }
    const slideRoom = Math.floor(budget * (options.slideTarget ?? 0.6)) - fixedTokens;
    let first = last;
    for (const g of [...groups].reverse()) {
      if (tokensFrom(g) > slideRoom) break;
      first = g;
    }
    const previous = groups.at(-1);
    if (first === last && previous !== undefined && tokensFrom(previous) <= room) return previous;
    return first;
  }

  // Only the newest message (and the persona, if it still fits) goes in; the message keeps
  // the longest end that fits, found by binary search on real token counts.
  async function cutNewest(): Promise<{ plan: Plan; promptTokens: number }> {
    const text = newestText;
    for (const withPersona of personaFits ? [true, false] : [false]) {
      const whole: Plan = { withPersona, first: last, userText: text, truncated: false };
      if (!newestOver) {
        const wholeTokens = await exactTokens(whole);
        if (wholeTokens <= budget) return { plan: whole, promptTokens: wholeTokens };
      }

      const candidate = (from: number): Plan => ({
        withPersona,
        first: last,
        userText: TRUNCATION_MARKER + suffixFrom(text, from),
        truncated: true,
      });
      const tried = new Map<number, number>();
      const fits = async (from: number): Promise<boolean> => {
        const n = await exactTokens(candidate(from));
        tried.set(from, n);
        return n <= budget;
      };
      let hi = text.length;
      if (!(await fits(hi))) continue;
      // Search only near the expected cut: the end that fits is about `room` tokens long.
      const room = budget - cueTokens - (withPersona ? personaTokens : 0);
      const expectedChars = Math.ceil((text.length * Math.max(room, 1)) / Math.max(userTokens, 1));
      let lo = Math.max(0, text.length - 2 * expectedChars - 64);
      if (await fits(lo)) hi = lo;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (await fits(mid)) hi = mid;
        else lo = mid;
      }
      return { plan: candidate(hi), promptTokens: tried.get(hi) as number };
    }
    const scaffold = format.render(null, [{ role: 'user', text: TRUNCATION_MARKER }]);
    throw new ContextWindowError(
      'too-small',
      `the context is too small: ${contextLength} positions minus ${maxNewTokens} reserved for the reply leave ${budget} tokens, ` +
        `not enough for even the prompt's frame ${JSON.stringify(scaffold)}; lower maxNewTokens`,
    );
  }
}

interface TokenBound {
  /** True when `text` needs more tokens than the budget, whatever it says. */
  over(text: string): boolean;
  /** The fewest tokens `text` can take. */
  least(text: string): number;
}

function tokenBound(budget: number, maxTokenBytes: number | null | undefined): TokenBound {
  if (!maxTokenBytes || maxTokenBytes <= 0) return { over: () => false, least: () => 0 };
  return { over: (text) => text.length > budget * maxTokenBytes, least: (text) => Math.ceil(text.length / maxTokenBytes) };
}

/**
 * The first turn whose count can matter: going back from the newest, once the earlier turns'
 * least counts add up past the budget, older turns cannot join the window.
 */
function earliestWorthCounting(turnPieces: readonly string[], budget: number, bound: TokenBound): number {
  let least = 0;
  for (let i = turnPieces.length - 2; i >= 0; i--) {
    least += bound.least(turnPieces[i] as string);
    if (least > budget) return i;
  }
  return 0;
}

/** Counts of `texts`; one that cannot fit gets its least count (above the budget) untokenized. */
async function countWithin(countTokens: CountTokens, bound: TokenBound, texts: string[]): Promise<number[]> {
  const asked = texts.filter((t) => !bound.over(t));
  const counts = asked.length > 0 ? await countTokens(asked) : [];
  let next = 0;
  return texts.map((t) => (bound.over(t) ? bound.least(t) : (counts[next++] as number)));
}

/** Indices where the exchanges before the newest turn begin: 0 and every earlier user turn. */
function exchangeStarts(turns: readonly Turn[]): number[] {
  const starts: number[] = [];
  for (let i = 0; i < turns.length - 1; i++) {
    if (i === 0 || turns[i]?.role === 'user') starts.push(i);
  }
  return starts;
}

// Never split a surrogate pair: a lone half would reach the tokenizer as U+FFFD.
function suffixFrom(text: string, from: number): string {
  const code = text.charCodeAt(from);
  const inPair = from > 0 && code >= 0xdc00 && code <= 0xdfff && (text.charCodeAt(from - 1) & 0xfc00) === 0xd800;
  return text.slice(inPair ? from + 1 : from).trimStart();
}

/** The end of the newest message that a window cut keeps (without the marker); '' when it was not cut. */
export function keptNewestText(window: Pick<ContextWindow, 'truncated' | 'messages'>): string {
  if (!window.truncated) return '';
  const kept = window.messages.at(-1)?.text ?? '';
  return kept.startsWith(TRUNCATION_MARKER) ? kept.slice(TRUNCATION_MARKER.length) : kept;
}
