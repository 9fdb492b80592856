#!/usr/bin/python3
"""Trains the demo model's byte-level BPE on the corpus and writes it in the Hugging Face format that
transformers.js loads (tokenizer.json, tokenizer_config.json, special_tokens_map.json).

  /usr/bin/python3 tools/train-demo/tokenizer.py [--corpus .cache/train-demo/train.txt]
      [--out .cache/train-demo/tokenizer] [--vocab-size 4096] [--model-max-length 512]

The vocabulary: the 256 byte characters, the merges in the order learnt, then <|endoftext|> (the last id),
which is bos, eos and unk as in GPT-2. Learnt on the training split only (Revelation stays unseen).
"""
import argparse
import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import ENDOFTEXT, pretokens, train  # noqa: E402


def word_counts(text):
    counts = collections.Counter()
    for piece in text.split(ENDOFTEXT):
        counts.update(pretokens(piece))
    return counts


def tokenizer_json(vocab, merges):
    byte_level = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [{'id': vocab[ENDOFTEXT], 'content': ENDOFTEXT, 'single_word': False, 'lstrip': False,
                          'rstrip': False, 'normalized': True, 'special': True}],
        'normalizer': None,
        'pre_tokenizer': byte_level,
        'post_processor': {**byte_level, 'trim_offsets': False},
        'decoder': byte_level,
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': '',
                  'end_of_word_suffix': '', 'fuse_unk': False, 'byte_fallback': False,
                  'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }


def tokenizer_config(eot_id, model_max_length):
    return {
        'add_bos_token': False,
        'add_prefix_space': False,
        'added_tokens_decoder': {str(eot_id): {'content': ENDOFTEXT, 'single_word': False, 'lstrip': False,
                                               'rstrip': False, 'normalized': True, 'special': True}},
        'bos_token': ENDOFTEXT,
        'eos_token': ENDOFTEXT,
        'unk_token': ENDOFTEXT,
        'clean_up_tokenization_spaces': False,
        'model_max_length': model_max_length,
        'tokenizer_class': 'GPT2Tokenizer',
    }


def write_json(path, obj, compact=False):
    with open(path, 'w', encoding='utf-8') as f:
        if compact:
            json.dump(obj, f, ensure_ascii=False, separators=(',', ':'))
        else:
            json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write('\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--corpus', default='.cache/train-demo/train.txt')
    ap.add_argument('--out', default='.cache/train-demo/tokenizer')
    ap.add_argument('--vocab-size', type=int, default=4096)
    ap.add_argument('--model-max-length', type=int, default=512)
    a = ap.parse_args()
    t0 = time.time()
    counts = word_counts(open(a.corpus, encoding='utf-8').read())
    vocab, merges = train(counts, a.vocab_size)
    if len(vocab) != a.vocab_size:
        raise SystemExit(f'only {len(vocab)} tokens learnt; the corpus has too few distinct pairs')
    os.makedirs(a.out, exist_ok=True)
    write_json(os.path.join(a.out, 'tokenizer.json'), tokenizer_json(vocab, merges), compact=True)
    write_json(os.path.join(a.out, 'tokenizer_config.json'), tokenizer_config(vocab[ENDOFTEXT], a.model_max_length))
    write_json(os.path.join(a.out, 'special_tokens_map.json'),
               {'bos_token': ENDOFTEXT, 'eos_token': ENDOFTEXT, 'unk_token': ENDOFTEXT})
    print(f'{len(counts)} distinct words, {len(merges)} merges, vocabulary {len(vocab)} '
          f'(<|endoftext|> = {vocab[ENDOFTEXT]}) -> {a.out} in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
