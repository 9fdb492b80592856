// The only escape sequences the Markdown view writes: SGR styles of its own, each with the
// code that ends it, so wrap-ansi can close a style at the end of a wrapped line and open it
// again on the next. The text they wrap has been cleaned of the model's sequences first.
export interface Styler {
  bold(text: string): string;
  italic(text: string): string;
  underline(text: string): string;
  strike(text: string): string;
  dim(text: string): string;
  /** Colours are left out under NO_COLOR; the other styles are not colour and stay. */
  color(name: ColorName, text: string): string;
  readonly colors: boolean;
}

export type ColorName = 'cyan' | 'yellow' | 'green' | 'magenta' | 'blue' | 'red' | 'gray';

const COLOR_CODES: Record<ColorName, number> = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90 };

const sgr = (open: number, close: number) => (text: string) => (text === '' ? '' : `\u001b[${open}m${text}\u001b[${close}m`);

export function styler(colors: boolean): Styler {
  return {
    bold: sgr(1, 22),
    italic: sgr(3, 23),
    underline: sgr(4, 24),
    strike: sgr(9, 29),
    dim: sgr(2, 22),
    color: (name, text) => (colors ? sgr(COLOR_CODES[name], 39)(text) : text),
    colors,
  };
}

/** Every sequence the view may write matches this: SGR and nothing else. */
export const OWN_SEQUENCE = /\u001b\[[0-9;]*m/g;
