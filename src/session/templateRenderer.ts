// A ChatTemplateRenderer from the tokenizer's own chat template (Jinja), for instruct models.
// The template is rendered message by message so each turn stays its own segment (the
// context window counts and drops whole turns); the generation cue is whatever the template
// adds for add_generation_prompt.
import { Template } from '@huggingface/jinja';
import type { ChatTemplate } from '../engine/protocol.js';
import type { ChatTemplateRenderer } from './promptFormat.js';
import type { Role } from './types.js';

// Marks where a message's content goes, to learn how the template opens a user message.
const CONTENT = '\u2063parley-content\u2063';

export function templateRenderer(chat: ChatTemplate): ChatTemplateRenderer {
  const template = new Template(chat.template);
  const render = (messages: { role: Role; content: string }[], addGenerationPrompt: boolean): string =>
    template.render({
      messages,
      add_generation_prompt: addGenerationPrompt,
      // Per message, a BOS would repeat before every turn; the tokenizer adds its own if needed.
      bos_token: '',
      eos_token: chat.eosToken,
    });
  const message = (role: Role, content: string): string => {
    try {
      return render([{ role, content }], false);
    } catch (error) {
      // Some templates accept no system role: the persona then speaks as the user.
      if (role === 'system') return render([{ role: 'user', content }], false);
      throw error;
    }
  };
  const probe = [{ role: 'user' as const, content: 'x' }];
  const withCue = render(probe, true);
  const without = render(probe, false);
  const generationPrompt = withCue.startsWith(without) ? withCue.slice(without.length) : '';
  const userMessage = message('user', CONTENT);
  const userOpening = userMessage.slice(0, userMessage.indexOf(CONTENT)).trim();
  return {
    name: 'tokenizer',
    message,
    generationPrompt,
    stop: [chat.eosToken, userOpening].filter((s) => s !== ''),
  };
}
