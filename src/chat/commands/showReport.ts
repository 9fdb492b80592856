// The text of /show: what the model in use is (ollama's `show`), as a pure function of what the
// engine reported about it. Template text and paths come from the model's folder: untrusted,
// so every line is sanitised here, whatever the view does after.
import type { GenerationDefaults, ModelInfo } from '../../engine/protocol.js';
import { counted } from '../../text/format.js';
import { sanitizeForTerminal } from '../../text/terminalText.js';

/** How many lines of a chat template /show prints. */
export const TEMPLATE_LINES = 4;
const TEMPLATE_LINE_WIDTH = 100;

/** The families a chat template can be recognised by, from the turn markers it writes. */
const TEMPLATE_FAMILIES: readonly (readonly [RegExp, string])[] = [
  [/<\|im_start\|>/, 'ChatML'],
  [/<\|start_header_id\|>/, 'Llama 3'],
  [/<start_of_turn>/, 'Gemma'],
  [/<\|user\|>/, 'Phi-3 / Zephyr'],
  [/\[INST\]/, 'Llama 2 / Mistral'],
];

export function templateFamily(template: string): string {
  return TEMPLATE_FAMILIES.find(([marker]) => marker.test(template))?.[1] ?? 'its own format';
}

/** 124,439,808 → "124.4M"; small counts as they are. */
export function formatParameterCount(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}K`;
  return String(count);
}

const DEFAULT_NAMES: readonly (readonly [keyof GenerationDefaults, string])[] = [
  ['temperature', 'temperature'],
  ['topK', 'top-k'],
  ['topP', 'top-p'],
  ['repetitionPenalty', 'repeat penalty'],
  ['maxNewTokens', 'max tokens'],
];

export function formatGenerationDefaults(defaults: GenerationDefaults | undefined): string {
  const parts = DEFAULT_NAMES.flatMap(([key, label]) => (defaults?.[key] === undefined ? [] : [`${label} ${defaults[key]}`]));
  return parts.length === 0 ? "none (Parley's defaults apply)" : parts.join(', ');
}

export interface ShowInput {
  /** The model as the user asked for it (alias, hub id, folder). */
  label: string;
  model: ModelInfo;
}

export function formatShow({ label, model }: ShowInput): string {
  const rows: [string, string][] = [['Model', label]];
  if (model.endpoint) {
    rows.push(['Runs on', `${model.endpoint.url} as ${model.endpoint.name}`]);
    rows.push(['Context', `${model.contextLength} tokens (from the ${model.endpoint.contextFrom})`]);
  } else {
    const facts = model.facts;
    rows.push(['Architecture', facts?.modelType ?? 'unknown (config.json has no model_type)']);
    rows.push([
      'Parameters',
      facts?.parameters
        ? `${formatParameterCount(facts.parameters)} (${facts.parameters.toLocaleString('en-US')}, ${facts.parametersFrom === 'config' ? 'from config.json' : 'from the graph'})`
        : 'unknown',
    ]);
    rows.push(['Context', `${model.contextLength} tokens`]);
    rows.push(['Vocabulary', `${model.vocabSize} tokens`]);
    rows.push(['Dtype', model.dtype]);
    if (facts) rows.push(['ONNX file', facts.onnxFile]);
    rows.push(['Graph', model.graph ? model.graph.note : "the model's own export, as it is"]);
  }
  rows.push(['Defaults', formatGenerationDefaults(model.generationDefaults)]);
  if (!model.endpoint && model.facts) rows.push(['Lives in', model.facts.folder]);
  const template = model.chatTemplate?.template;
  rows.push([
    'Template',
    template
      ? `${templateFamily(template)} chat template, ${counted(template.split('\n').length, 'line')}`
      : 'none: the plain transcript format (User: / Assistant:)',
  ]);
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, value]) => `${name.padEnd(width)}  ${oneLine(value)}`);
  if (template) lines.push(...templateHead(template).map((line) => `  │ ${line}`));
  return lines.join('\n');
}

/** The template's first non-empty lines, each cut to a width, with "…" when more follows. */
export function templateHead(template: string): string[] {
  const all = template.split('\n').map((line) => oneLine(line.trimEnd()));
  const shown = all.filter((line) => line.trim() !== '').slice(0, TEMPLATE_LINES);
  const cut = shown.map((line) => (line.length > TEMPLATE_LINE_WIDTH ? `${line.slice(0, TEMPLATE_LINE_WIDTH - 1)}…` : line));
  return all.filter((line) => line.trim() !== '').length > TEMPLATE_LINES ? [...cut, '…'] : cut;
}

/** Sanitised, and on one line: a newline or tab in a folder name must not break the table. */
function oneLine(text: string): string {
  return sanitizeForTerminal(text).replace(/[\n\t]/g, ' ');
}
