// Inline Markdown (emphasis, code spans, links) as one styled string. Links are shown as
// their text and URL, never as OSC 8 hyperlinks: a link's target stays visible.
import type { Token, Tokens } from 'marked';
import type { Styler } from './markdownStyle.js';

/** Tabs would move the cursor by an amount the wrapping cannot know. */
const untab = (text: string): string => text.replace(/\t/g, ' ');

export function inlineText(tokens: readonly Token[] | undefined, s: Styler): string {
  if (!tokens) return '';
  return tokens.map((token) => inlineToken(token, s)).join('');
}

function inlineToken(token: Token, s: Styler): string {
  switch (token.type) {
    case 'strong':
      return s.bold(inlineText((token as Tokens.Strong).tokens, s));
    case 'em':
      return s.italic(inlineText((token as Tokens.Em).tokens, s));
    case 'del':
      return s.strike(inlineText((token as Tokens.Del).tokens, s));
    case 'codespan': {
      const code = decodeEntities(untab((token as Tokens.Codespan).text));
      return s.colors ? s.color('yellow', code) : `\`${code}\``;
    }
    case 'br':
      return '\n';
    case 'link': {
      const link = token as Tokens.Link;
      const text = inlineText(link.tokens, s);
      const href = untab(link.href);
      const plainText = link.text.trim();
      if (plainText === href || plainText === href.replace(/^mailto:/, '')) return s.underline(text);
      return `${s.underline(text)} ${s.color('gray', `(${href})`)}`;
    }
    case 'image': {
      const image = token as Tokens.Image;
      return s.color('gray', `[image: ${untab(image.text)}] (${untab(image.href)})`);
    }
    case 'text':
    case 'escape': {
      const text = token as Tokens.Text;
      return text.tokens && text.tokens.length > 0 ? inlineText(text.tokens, s) : decodeEntities(untab(text.text));
    }
    case 'html':
      return untab((token as Tokens.HTML).text);
    default:
      return 'raw' in token ? untab(token.raw) : '';
  }
}

// marked escapes &, <, >, " and ' in text it passes on (it assumes HTML output); the
// terminal wants the characters themselves.
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
}
