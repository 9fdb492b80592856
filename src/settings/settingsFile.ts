// Persistent defaults in a conf file (config.json in the platform config directory, or in
// PARLEY_CONFIG_DIR). The edge of the settings logic: values are checked by
// settingsSchema.ts, the file is only ever written by an explicit `set`, and a
// hand-edited file that is broken is reported with its path, never reset.
import Conf, { type Schema } from './confWithoutSignalTraps.js';
import { readFileSync } from 'node:fs';
import { checkSettings, settingValueError, SETTINGS_JSON_SCHEMA, type SettingKey, type Settings } from './settingsSchema.js';
import { errorMessage } from '../errors.js';
import { configDir, settingsFilePath } from '../paths.js';

const CONFIG_NAME = 'config';

export class SettingsError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'SettingsError';
  }
}

export interface SettingsStore {
  /** The settings file (it may not exist yet). */
  readonly path: string;
  /** The values the user has set; defaults are not filled in (see settingsPrecedence). */
  stored(): Partial<Settings>;
  /** Validates and saves one value; throws SettingsError with a one-line message. */
  set<K extends SettingKey>(key: K, value: Settings[K]): void;
}

export interface OpenSettingsOptions {
  /** Directory of config.json; else PARLEY_CONFIG_DIR, else the platform config directory. */
  configDir?: string;
  /** Default: process.env, so PARLEY_CONFIG_DIR always applies. */
  env?: Readonly<Record<string, string | undefined>>;
}

export function settingsDir(options: OpenSettingsOptions = {}): string {
  return options.configDir ?? configDir(options.env);
}

/** Opens the settings; throws SettingsError naming the file when it is unreadable or invalid. */
export function openSettings(options: OpenSettingsOptions = {}): SettingsStore {
  const dir = settingsDir(options);
  const path = settingsFilePath(dir);
  checkFile(path);
  let conf: Conf<Partial<Settings>>;
  try {
    conf = new Conf<Partial<Settings>>({
      projectName: 'parley',
      projectSuffix: '',
      cwd: dir,
      configName: CONFIG_NAME,
      // Without `default`s in the schema conf stores only what the user set, so the
      // precedence function can tell a chosen value from a default.
      schema: SETTINGS_JSON_SCHEMA as Schema<Partial<Settings>>,
      ajvOptions: { allowUnionTypes: true },
      clearInvalidConfig: false,
    });
  } catch (error) {
    throw new SettingsError(`${path}: ${errorMessage(error)}; fix or delete the file (Parley has not changed it)`, path);
  }
  return {
    path,
    stored: () => checkSettings(readStore(conf, path)).values,
    set: (key, value) => {
      const error = settingValueError(key, value);
      if (error !== null) throw new SettingsError(error, path);
      try {
        conf.set(key, value);
      } catch (cause) {
        throw new SettingsError(`could not save ${key} to ${path}: ${errorMessage(cause)}`, path);
      }
    },
  };
}

// Checked here first, with the same rules and words as everywhere else, because conf's own
// errors ("`temperature` must be <= 2") do not name the file or say how to fix it.
function checkFile(path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new SettingsError(`cannot read the settings file ${path}: ${errorMessage(error)}`, path);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(`${path}: not valid JSON (${errorMessage(error)}); fix or delete the file (Parley has not changed it)`, path);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SettingsError(`${path}: settings must be a JSON object; fix or delete the file (Parley has not changed it)`, path);
  }
  const { errors } = checkSettings(data as Record<string, unknown>);
  if (errors.length > 0) {
    throw new SettingsError(`${path}: invalid settings: ${errors.join('; ')}; fix or delete the file (Parley has not changed it)`, path);
  }
}

// The file may have been hand-edited since opening; conf validates on every read.
function readStore(conf: Conf<Partial<Settings>>, path: string): Record<string, unknown> {
  try {
    return conf.store;
  } catch (error) {
    throw new SettingsError(`${path}: ${errorMessage(error)}; fix or delete the file (Parley has not changed it)`, path);
  }
}
