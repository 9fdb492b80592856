// The text of the inspection commands (/stats, /context, /sessions, /model, /help),
// as pure functions of the data, so each can be tested without a screen.
import type { GraphChoiceInfo } from '../../engine/protocol.js';
import type { SessionListEntry } from '../../session/sessionStore.js';
import type { Conversation, ReplyMeta } from '../../prompt/conversationTypes.js';
import { formatAge, formatBytes, formatDuration, counted } from '../../text/format.js';
import type { DefinitionSection } from '../view/transcriptItems.js';

export function formatStats(
  conversation: Conversation,
  graph?: GraphChoiceInfo,
  threading?: { spinning: boolean; threads: number; why: string },
): string {
  const graphLine = [
    ...(graph ? [`Graph: ${graph.note}.`] : []),
    ...(threading
      ? [
          `Threads: ${threading.threads} onnxruntime threads, which ${threading.spinning ? 'spin' : 'do not spin'} between parallel work (${threading.why}).`,
        ]
      : []),
  ];
  const replies = conversation.turns.flatMap((t) => (t.role === 'assistant' && t.meta ? [t.meta] : []));
  const last: ReplyMeta | undefined = replies.at(-1);
  if (!last) return ['No replies yet.', ...graphLine].join('\n');
  const generated = replies.reduce((sum, m) => sum + m.generatedTokens, 0);
  const prompt = replies.reduce((sum, m) => sum + m.promptTokens, 0);
  return [
    `Last reply: TTFT ${formatDuration(last.ttftMs)}, ${last.tokensPerSecond.toFixed(1)} tok/s, ` +
      `${last.promptTokens} prompt + ${last.generatedTokens} generated tokens (${last.reason}${last.interrupted ? ', interrupted' : ''}).`,
    `Session: ${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}, ${prompt} prompt + ${generated} generated tokens.`,
    ...graphLine,
  ].join('\n');
}

export interface ContextReport {
  contextLength: number;
  maxNewTokens: number;
  promptTokens: number;
  turnsIn: number;
  turnsOut: number;
  persona: 'none' | 'included' | 'dropped';
  personaTokens: number;
  earlierTurnTokens: number;
  newestTokens: number;
  truncated: boolean;
  /** When the newest message is cut: how much of it the window keeps, and the text it drops. */
  cut?: { keptTokens: number; droppedText: string };
  /** The prompt exactly as the model gets it (the chat template's rendering, if it has one). */
  rendered?: string;
  /** What `rendered` shows, when it is not the prompt text itself (messages sent to a server). */
  renderedTitle?: string;
}

export function formatContext(r: ContextReport): string {
  const persona =
    r.persona === 'none' ? 'no persona' : r.persona === 'included' ? `persona ${r.personaTokens} tokens` : 'persona dropped (too long)';
  const lines = [
    `Window: ${r.promptTokens}/${r.contextLength} tokens, ${r.maxNewTokens} reserved for the reply.`,
    `Turns: ${r.turnsIn} in context, ${r.turnsOut} out of context.`,
    `Parts: ${persona}; earlier turns ${r.earlierTurnTokens} tokens; your message ${r.newestTokens} tokens.`,
  ];
  if (r.truncated) {
    const cut = r.cut
      ? ` The window keeps its last ${r.cut.keptTokens} of ${r.newestTokens} tokens; cut: "${preview(r.cut.droppedText)}".`
      : '';
    lines.push(`Your message is too long for the window: its start is cut.${cut}`);
  }
  if (r.rendered !== undefined) lines.push(r.renderedTitle ?? 'The window as the model reads it:', r.rendered);
  return lines.join('\n');
}

export function formatSessionList(entries: readonly SessionListEntry[], current: string, dir: string, now: Date): string {
  if (entries.length === 0) return `No saved sessions yet (they are kept in ${dir}).`;
  const rows = entries.map((e) => {
    const marker = e.name === current ? '*' : ' ';
    if (!e.ok) return `${marker} ${e.name}  unusable: ${e.error}`;
    return `${marker} ${e.name}  ${formatAge(e.updatedAt, now)}  ${counted(e.turns, 'turn')}  ${e.model ?? 'no model'}`;
  });
  return [`Sessions in ${dir}:`, ...rows].join('\n');
}

export interface CachedModelRow {
  id: string;
  dtypes: readonly string[];
  bytes: number;
}

export function formatModelList(
  aliases: Readonly<Record<string, string>>,
  current: string | null,
  cache?: { dir: string; models: readonly CachedModelRow[] },
): string {
  const rows = Object.entries(aliases).map(([alias, id]) => `  ${alias}  ${id}`);
  const cached = cache
    ? cache.models.length === 0
      ? [`Nothing in the model cache yet (${cache.dir}).`]
      : [
          `In the model cache (${cache.dir}):`,
          ...cache.models.map((m) => `  ${m.id}  ${m.dtypes.length ? m.dtypes.join(',') : 'no model file'}  ${formatBytes(m.bytes)}`),
        ]
    : [];
  return [
    `Current model: ${current ?? 'none'}`,
    'Aliases:',
    ...rows,
    '  demo  a 3M-parameter model shipped with Parley, trained on the King James Bible (offline)',
    ...cached,
    'Or a hub id (owner/name) or a folder (./path).',
  ].join('\n');
}

export interface HelpEntry {
  name: string;
  aliases: readonly string[];
  args: string;
  description: string;
}

/** Commands' usage and descriptions as plain rows (/help COMMAND shows its row). */
export function formatHelp(commands: readonly HelpEntry[]): string {
  const usage = (c: HelpEntry): string => `/${c.name}${c.args ? ` ${c.args}` : ''}`;
  const width = Math.max(...commands.map((c) => usage(c).length));
  return commands
    .map((c) => {
      const aliases = c.aliases.length ? ` (also ${c.aliases.map((a) => `/${a}`).join(', ')})` : '';
      return `${usage(c).padEnd(width)}  ${c.description}${aliases}`;
    })
    .join('\n');
}

/** Every command and the keys, as /help lays them out: two columns when the screen is wide enough. */
export function helpSections(commands: readonly HelpEntry[]): DefinitionSection[] {
  const usage = (c: HelpEntry): string => `/${c.name}${c.args ? ` ${c.args}` : ''}`;
  const aliases = (c: HelpEntry): string => (c.aliases.length ? ` (also ${c.aliases.map((a) => `/${a}`).join(', ')})` : '');
  return [
    { title: null, rows: commands.map((c) => [usage(c), `${c.description}${aliases(c)}`] as const) },
    { title: 'Keys:', rows: HELP_KEYS },
  ];
}

const HELP_KEYS: DefinitionSection['rows'] = [
  ['Enter', 'send; while a reply streams, the message is queued and sent when the reply ends'],
  ['Alt+Enter, \\ at line end', 'new line'],
  ['↑ ↓', 'history'],
  ['Tab', 'complete a command or its argument'],
  ['Esc, Ctrl+C', 'take back the newest queued message; else stop the reply'],
  ['Ctrl+C twice, Ctrl+D', 'exit'],
  ['Ctrl+W, Ctrl+U', 'delete the word, the line before the cursor'],
  ['Ctrl+X Ctrl+E', 'write the message in $EDITOR (then $VISUAL, then vi)'],
  ['Ctrl+L', 'clear the screen'],
];

export interface SettingsReport {
  values: Readonly<Record<string, unknown>>;
  sources: Readonly<Record<string, string>>;
  files: readonly [label: string, path: string][];
}

export function formatSettings(report: SettingsReport): string {
  const shown = (value: unknown): string => (value === null ? 'none' : typeof value === 'string' ? value : JSON.stringify(value));
  const keys = Object.keys(report.values);
  const width = Math.max(...keys.map((k) => k.length));
  const rows = keys.map((k) => `${k.padEnd(width)}  ${shown(report.values[k])}  (${report.sources[k] ?? 'default'})`);
  return [
    'Effective settings (a flag beats the session, which beats the settings file, which beats the default):',
    ...rows,
    ...report.files.map(([label, path]) => `${label}: ${path}`),
  ].join('\n');
}

/** The start of a dropped text, on one line. */
function preview(text: string, length = 60): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= length ? line : `${line.slice(0, length - 1)}…`;
}
