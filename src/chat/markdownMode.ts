// Whether replies are shown as Markdown. Models with a chat template are instruct models,
// which answer in Markdown; GPT-2-format models continue a transcript in plain prose, where
// a stray `*` or `#` would be taken for markup. A model on a server (--endpoint) is talked
// to through chat completions, its template applied there. The setting, when given, decides.
export function markdownInEffect(setting: boolean | null, model: { hasChatTemplate: boolean; endpoint?: unknown } | null): boolean {
  if (setting !== null) return setting;
  return model !== null && (model.hasChatTemplate || model.endpoint !== undefined);
}

/** How /markdown and the notices name the state in effect. */
export function describeMarkdown(setting: boolean | null, inEffect: boolean): string {
  const state = inEffect ? 'on' : 'off';
  if (setting !== null) return `Markdown replies are ${state}`;
  return `Markdown replies are ${state} (auto: ${inEffect ? 'the model has a chat template' : 'the model writes plain text'})`;
}
