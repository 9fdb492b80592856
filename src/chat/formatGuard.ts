// A chat template is the model's text, run by a Jinja interpreter: it may fail to parse or
// raise while rendering (templates that insist on alternating roles, say). Such a failure
// must cost the user a notice, never the app: the prompt falls back to the transcript.
import type { PromptFormat } from '../prompt/promptFormat.js';

/**
 * The format `build` makes, guarded: if building it or any of its functions throws,
 * `onBroken` hears the error once and the fallback's answer is used, then and from then on.
 */
export function guardedFormat(build: () => PromptFormat, fallback: () => PromptFormat, onBroken: (error: unknown) => void): PromptFormat {
  let broken = false;
  let spare: PromptFormat | null = null;
  const backup = (): PromptFormat => (spare ??= fallback());
  const breakDown = (error: unknown): void => {
    if (broken) return;
    broken = true;
    onBroken(error);
  };
  let format: PromptFormat;
  try {
    format = build();
  } catch (error) {
    breakDown(error);
    return backup();
  }
  return new Proxy(format, {
    get(target, property, receiver) {
      if (broken) return Reflect.get(backup(), property);
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        if (broken) return (Reflect.get(backup(), property) as (...a: unknown[]) => unknown)(...args);
        try {
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          breakDown(error);
          return (Reflect.get(backup(), property) as (...a: unknown[]) => unknown)(...args);
        }
      };
    },
  });
}
