// What the chat says when a model is ready: which one, with how much context, and what is
// odd about it (random weights, the graph it runs on, a reply length that did not fit).
import type { ModelInfo } from '../engine/protocol.js';
import { modelLabel } from './modelLabel.js';
import type { ReplyBudget } from './replyBudget.js';
import type { NoticeTone } from './view/transcriptItems.js';

export interface Notice {
  text: string;
  tone: NoticeTone;
}

/** `asked`: the reply length the settings ask for; `budget`: what the model allows of it. */
export function loadedNotices(ref: string, model: ModelInfo, budget: ReplyBudget, asked: number): Notice[] {
  const notices: Notice[] = [];
  const say = (text: string, tone: NoticeTone = 'info'): void => void notices.push({ text, tone });
  // A server's model has no dtype here: where it runs is what is true of it.
  say(
    model.endpoint
      ? `Model ${model.endpoint.name} on ${new URL(model.endpoint.url).host} ready (${model.contextLength} tokens of context).`
      : `Model ${modelLabel(ref)} ready (${model.dtype}, ${model.contextLength} tokens of context).`,
  );
  if (model.description) say(`${modelLabel(ref)}: ${model.description}.`);
  if (model.randomWeights) say('This model has random weights: its replies are noise.', 'warning');
  if (model.graph && !model.graph.converted) say(`Running ${model.graph.note}.`, 'warning');
  else if (model.graph?.convertedNow) say(`Runs on ${model.graph.note}.`);
  const own = modelDefaultsLine(model);
  if (own) say(own);
  if (budget.lowered) {
    say(
      `max tokens ${asked} does not fit ${modelLabel(ref)} (${model.contextLength} tokens of context): using ${budget.maxNewTokens} with it.`,
      'warning',
    );
  }
  return notices;
}

const DEFAULT_LABELS = [
  ['temperature', 'temperature'],
  ['topK', 'top-k'],
  ['topP', 'top-p'],
  ['repetitionPenalty', 'repeat penalty'],
  ['maxNewTokens', 'max tokens'],
] as const;

/** The model's own sampling defaults, when its generation_config.json gives any. */
export function modelDefaultsLine(model: ModelInfo): string | null {
  const defaults = model.generationDefaults ?? {};
  const parts = DEFAULT_LABELS.flatMap(([key, label]) => (defaults[key] === undefined ? [] : [`${label} ${defaults[key]}`]));
  return parts.length === 0 ? null : `Its own defaults (your settings win over them): ${parts.join(', ')}.`;
}
