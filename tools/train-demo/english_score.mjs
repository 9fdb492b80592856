// How English a text is: the share of its words (runs of letters, lower-cased) found in a word list,
// by default Debian's wamerican (/usr/share/dict/words, also lower-cased).
//   node tools/train-demo/english_score.mjs FILE|-  [WORDS_FILE]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DICT_WORDS = '/usr/share/dict/words';

/** The lower-cased words of a word-list file, one per line. */
export function readWordList(file = DICT_WORDS) {
  return new Set(readFileSync(file, 'utf8').split('\n').map((w) => w.trim().toLowerCase()).filter(Boolean));
}

/** The text's words: runs of letters, lower-cased. */
export function wordsOf(text) {
  return text.toLowerCase().match(/\p{L}+/gu) ?? [];
}

/** { words, known, share, unknown: the distinct words not in the list } for `text`. */
export function englishScore(text, wordList) {
  const words = wordsOf(text);
  const unknown = new Set();
  let known = 0;
  for (const word of words) {
    if (wordList.has(word)) known++;
    else unknown.add(word);
  }
  return { words: words.length, known, share: words.length ? known / words.length : 0, unknown: [...unknown] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file = '-', list = DICT_WORDS] = process.argv.slice(2);
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const score = englishScore(text, readWordList(list));
  console.log(`${(score.share * 100).toFixed(1)} % of ${score.words} words in ${list}` +
    (score.unknown.length ? `; not found: ${score.unknown.slice(0, 20).join(' ')}` : ''));
}
