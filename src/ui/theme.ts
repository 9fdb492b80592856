// Colours of the UI in one place, so NO_COLOR (https://no-color.org) can switch them all
// off. Ink's chalk does not read NO_COLOR itself. Without colour the UI still reads well:
// roles are told apart by their prefixes, and the cursor uses inverse video, which is not colour.
import { createContext, useContext } from 'react';

export interface Theme {
  accent: string | undefined;
  user: string | undefined;
  error: string | undefined;
  warning: string | undefined;
  success: string | undefined;
  muted: string | undefined;
  /** False under NO_COLOR: Parley's own Markdown styling then keeps bold and italic only. */
  colors: boolean;
}

const COLOURS: Theme = {
  accent: 'cyan',
  user: 'blue',
  error: 'red',
  warning: 'yellow',
  success: 'green',
  muted: 'gray',
  colors: true,
};

const PLAIN: Theme = {
  accent: undefined,
  user: undefined,
  error: undefined,
  warning: undefined,
  success: undefined,
  muted: undefined,
  colors: false,
};

/** NO_COLOR set to any non-empty value turns colour off. */
export function themeFor(env: NodeJS.ProcessEnv): Theme {
  return env['NO_COLOR'] ? PLAIN : COLOURS;
}

export const ThemeContext = createContext<Theme>(COLOURS);

export const useTheme = (): Theme => useContext(ThemeContext);
