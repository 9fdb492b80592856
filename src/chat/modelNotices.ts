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
  if (budget.lowered) {
    say(
      `max tokens ${asked} does not fit ${modelLabel(ref)} (${model.contextLength} tokens of context): using ${budget.maxNewTokens} with it.`,
      'warning',
    );
  }
  return notices;
}
