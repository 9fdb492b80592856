// Real English prose that ships with the dependencies, so the benchmark needs no download:
// the Apache License 2.0 text of the typescript package (about 2,000 GPT-2 tokens).
import { readFile } from 'node:fs/promises';
import { REPO_ROOT } from '../test/helpers/fixtures.js';
import path from 'node:path';

const ENGLISH_TEXT_FILE = path.join(REPO_ROOT, 'node_modules', 'typescript', 'LICENSE.txt');

export async function englishText(): Promise<string> {
  // Collapse the file's layout (blank lines, trailing spaces) into plain paragraphs of prose.
  const raw = await readFile(ENGLISH_TEXT_FILE, 'utf8');
  return raw
    .replace(/\r/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The text's sentences, for scripted chat messages. */
export async function englishSentences(): Promise<string[]> {
  const text = await englishText();
  return text
    .split(/(?<=[.;:])\s+|\n+/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => s.length > 20);
}
