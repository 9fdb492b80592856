// A session as Markdown, for `parley --export NAME` and `/export`: readable on its own,
// with the model and settings that produced each reply.
import { DEFAULT_NAMES, type SpeakerNames } from '../prompt/promptFormat.js';
import type { ReplyMeta, Turn } from '../prompt/conversationTypes.js';
import type { Session } from './types.js';
import { cleanText } from '../text/terminalText.js';

export function sessionToMarkdown(session: Session, names: SpeakerNames = DEFAULT_NAMES): string {
  const lines: string[] = [`# ${escapeInline(session.name)}`, ''];
  const facts = [
    session.model === null ? null : `Model: ${session.model}${session.dtype === null ? '' : ` (${session.dtype})`}`,
    `Started: ${session.createdAt}`,
    `Last saved: ${session.updatedAt}`,
  ].filter((f): f is string => f !== null);
  lines.push(facts.map((f) => `- ${escapeInline(f)}`).join('\n'), '');
  if (session.conversation.persona !== null) {
    lines.push('## Persona', '', quote(session.conversation.persona), '');
  }
  for (const turn of session.conversation.turns) lines.push(...turnLines(turn, names), '');
  return lines.join('\n').trimEnd() + '\n';
}

function turnLines(turn: Turn, names: SpeakerNames): string[] {
  const speaker = turn.role === 'user' ? names.user : turn.role === 'assistant' ? names.assistant : 'System';
  const lines = [`## ${escapeInline(speaker)}`, '', turn.text === '' ? '_(empty)_' : turn.text];
  if (turn.meta !== undefined) lines.push('', `<sub>${escapeInline(metaLine(turn.meta))}</sub>`);
  return lines;
}

function metaLine(meta: ReplyMeta): string {
  const parts = [
    `${meta.model} ${meta.dtype}`,
    `${meta.generatedTokens} tokens`,
    `${meta.tokensPerSecond.toFixed(1)} tok/s`,
    `temperature ${meta.params.temperature}`,
  ];
  if (meta.interrupted) parts.push('stopped by the user');
  else if (meta.reason === 'length') parts.push('cut at the token limit');
  else if (meta.reason === 'error') parts.push('ended by an error');
  return parts.join(' · ');
}

// Message text is the user's own Markdown and goes out as is; the metadata we generate
// must not turn into markup by accident, nor carry control characters from a session file
// (a model ref can hold anything), whatever the output mode.
function escapeInline(text: string): string {
  return cleanText(text, 'text').replace(/[\\`*_[\]<>#|]/g, '\\$&');
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}
