"""Byte-level BPE as GPT-2 does it: GPT-2's pre-tokenizer regex, GPT-2's byte-to-character table, merges
learnt on word frequencies. Pure functions, no I/O; tokenizer.py trains and writes the files, train.py encodes.
"""
import collections
import re

ENDOFTEXT = '<|endoftext|>'

# GPT-2's pattern with \p{L} and \p{N} spelt for Python's re ([^\W\d_] is a letter, \d a digit); the KJV text is
# ASCII, where these agree with the original, and transformers.js's round trip over the corpus checks it.
PRETOKENIZE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's table from bytes to printable characters (space is 'Ġ', newline 'Ċ')."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHARS = bytes_to_unicode()


def pretokens(text):
    """The byte-level words of a text (without special tokens), each spelt in GPT-2's byte characters."""
    return [''.join(BYTE_CHARS[b] for b in piece.encode('utf-8')) for piece in PRETOKENIZE.findall(text)]


def train(word_counts, vocab_size, special=(ENDOFTEXT,)):
    """Learns merges until the vocabulary (256 bytes + merges + specials) has vocab_size entries.
    Ties between equally frequent pairs go to the smallest pair (as tuples of strings), so the result is
    deterministic.
    Returns (vocab: token -> id, merges: list of (left, right))."""
    words = [list(w) for w in word_counts]
    counts = list(word_counts.values())
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of words holding it
    for i, w in enumerate(words):
        for pair in zip(w, w[1:]):
            pair_counts[pair] += counts[i]
            where[pair].add(i)
    alphabet = [BYTE_CHARS[b] for b in range(256)]
    merges = []
    target = vocab_size - len(alphabet) - len(special)
    while len(merges) < target and pair_counts:
        top = max(pair_counts.values())
        best = min(p for p, n in pair_counts.items() if n == top)
        merges.append(best)
        joined = best[0] + best[1]
        touched = set()
        for i in list(where[best]):
            w, c = words[i], counts[i]
            for pair in zip(w, w[1:]):
                pair_counts[pair] -= c
                touched.add(pair)
            merged, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == best[0] and w[j + 1] == best[1]:
                    merged.append(joined)
                    j += 2
                else:
                    merged.append(w[j])
                    j += 1
            words[i] = merged
            for pair in zip(merged, merged[1:]):
                pair_counts[pair] += c
                where[pair].add(i)
        del pair_counts[best]
        del where[best]
        for pair in touched:
            if pair in pair_counts and pair_counts[pair] <= 0:
                del pair_counts[pair]
    vocab = {tok: i for i, tok in enumerate(alphabet + [a + b for a, b in merges] + list(special))}
    return vocab, merges



class Encoder:
    """Applies merges by rank to each pre-token, as tokenizers' BPE model does; special tokens split the text."""

    def __init__(self, vocab, merges, special=(ENDOFTEXT,)):
        self.vocab = vocab
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.special = list(special)
        self.cache = {}

    def word(self, w):
        if w in self.cache:
            return self.cache[w]
        parts = list(w)
        while len(parts) > 1:
            ranked = [(self.ranks.get(p, 1 << 30), k) for k, p in enumerate(zip(parts, parts[1:]))]
            rank, k = min(ranked)
            if rank == 1 << 30:
                break
            parts[k:k + 2] = [parts[k] + parts[k + 1]]
        ids = [self.vocab[p] for p in parts]
        self.cache[w] = ids
        return ids

    def encode(self, text):
        ids = []
        pieces = re.split('(' + '|'.join(map(re.escape, self.special)) + ')', text) if self.special else [text]
        for piece in pieces:
            if piece in self.special:
                ids.append(self.vocab[piece])
            elif piece:
                for w in pretokens(piece):
                    ids.extend(self.word(w))
        return ids
