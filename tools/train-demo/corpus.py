#!/usr/bin/python3
"""Writes the training text: the King James Bible from Debian's bible-kjv package, verse labels stripped.

  /usr/bin/python3 tools/train-demo/corpus.py [--out .cache/train-demo]

Layout: one verse per line, a blank line between chapters, and a line holding only <|endoftext|> between
books (train.py turns it into the special token). Verse lines rather than chapter paragraphs keep the
lines short, which is what a terminal shows best. Writes train.txt (Genesis to Jude) and heldout.txt
(Revelation, the held-out slice for the loss curve), plus all.txt (both, for the tokenizer).
The KJV translation's copyright has expired (see /usr/share/doc/bible-kjv/copyright); the corpus is
generated here and never committed.
"""
import argparse
import os
import re
import subprocess

LABEL = re.compile(r'^(?P<book>[1-3]?[A-Za-z]+)(?P<chapter>\d+):(?P<verse>\d+) (?P<text>.*)$')
ENDOFTEXT = '<|endoftext|>'
HELDOUT_BOOKS = {'Rev'}


def read_verses():
    """(book, chapter, text) for every verse, in order, from the `bible` program."""
    raw = subprocess.run(['bible', '-f', 'gen1:1-rev22:21'], check=True, capture_output=True, text=True).stdout
    verses = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        m = LABEL.match(line)
        if not m:
            raise SystemExit(f'unexpected line from bible: {line!r}')
        verses.append((m['book'], int(m['chapter']), m['text'].strip()))
    return verses


def layout(verses):
    """The text of a run of verses: one per line, a blank line between chapters, <|endoftext|> between books."""
    out, prev = [], None
    for book, chapter, text in verses:
        if prev is not None and prev[0] != book:
            out.append(ENDOFTEXT)
        elif prev is not None and prev[1] != chapter:
            out.append('')
        out.append(text)
        prev = (book, chapter)
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='.cache/train-demo')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    verses = read_verses()
    train = [v for v in verses if v[0] not in HELDOUT_BOOKS]
    held = [v for v in verses if v[0] in HELDOUT_BOOKS]
    texts = {'train.txt': layout(train), 'heldout.txt': layout(held), 'all.txt': layout(train) + ENDOFTEXT + '\n' + layout(held)}
    for name, text in texts.items():
        with open(os.path.join(a.out, name), 'w', encoding='utf-8') as f:
            f.write(text)
    books = len({v[0] for v in verses})
    print(f'{len(verses)} verses in {books} books; train {len(train)} verses ({len(texts["train.txt"])} chars), '
          f'held-out {len(held)} verses ({len(texts["heldout.txt"])} chars) -> {a.out}')


if __name__ == '__main__':
    main()
