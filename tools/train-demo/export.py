#!/usr/bin/python3
"""Exports the trained demo model to ONNX as Optimum does for transformers.js (test/fixtures/tools/optimum_like.py):
a hub-style folder with config.json, generation_config.json, the tokenizer files and onnx/model.onnx (fp32),
the source build.mjs makes Parley's q8/q4 graphs from. Prints torch's greedy continuation of a prompt, to
compare with what Parley writes.

  /usr/bin/python3 tools/train-demo/export.py [--data .cache/train-demo] [--out .cache/train-demo/export]
"""
import argparse
import json
import os
import shutil
import sys

import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'test', 'fixtures', 'tools'))
from bpe import BYTE_CHARS, Encoder  # noqa: E402
from hf_models import GPT2LMHeadModel, gpt2_config  # noqa: E402
from optimum_like import deduplicate_tied_weights, export  # noqa: E402

TRANSFORMERS_VERSION = '4.36.2'  # the version hf_models.py mirrors
TOKENIZER_FILES = ('tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json')


def load(data):
    meta = json.load(open(os.path.join(data, 'model_config.json')))
    c = meta['config']
    extra = {k: v for k, v in c.items() if k not in ('n_layer', 'n_head', 'n_embd', 'n_positions', 'vocab_size')}
    cfg, cfg_dict = gpt2_config(c['n_layer'], c['n_head'], c['n_embd'], c['n_positions'], vocab_size=c['vocab_size'], **extra)
    model = GPT2LMHeadModel(cfg)
    model.load_state_dict(torch.load(os.path.join(data, 'model.pt')))
    model.eval()
    return model, cfg, cfg_dict


@torch.no_grad()
def greedy(model, encoder, tokenizer_vocab, prompt, steps):
    inverse = {i: t for t, i in tokenizer_vocab.items()}
    unbyte = {ch: b for b, ch in BYTE_CHARS.items()}
    ids = encoder.encode(prompt)
    for _ in range(steps):
        logits, _ = model(torch.tensor([ids[-model.config.n_positions:]]), use_cache=False)
        ids.append(int(logits[0, -1].argmax()))
    return bytes(unbyte[ch] for i in ids for ch in inverse[i] if i != len(inverse) - 1).decode('utf-8', 'replace')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='.cache/train-demo')
    ap.add_argument('--tokenizer', default=None, help='default <data>/tokenizer')
    ap.add_argument('--out', default='.cache/train-demo/export')
    ap.add_argument('--prompt', default='And God said')
    ap.add_argument('--opset', type=int, default=14)
    a = ap.parse_args()
    torch.set_num_threads(1)
    tokenizer_dir = a.tokenizer or os.path.join(a.data, 'tokenizer')
    model, cfg, cfg_dict = load(a.data)

    os.makedirs(os.path.join(a.out, 'onnx'), exist_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copyfile(os.path.join(tokenizer_dir, name), os.path.join(a.out, name))
    config = {'_name_or_path': 'demo', **cfg_dict, 'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2',
              'n_ctx': cfg.n_positions, 'torch_dtype': 'float32', 'transformers_version': TRANSFORMERS_VERSION}
    write_json(os.path.join(a.out, 'config.json'), {k: config[k] for k in sorted(config)})
    eot = cfg.eos_token_id
    write_json(os.path.join(a.out, 'generation_config.json'),
               {'_from_model_config': True, 'bos_token_id': eot, 'eos_token_id': eot,
                'transformers_version': TRANSFORMERS_VERSION})

    head_dim = cfg.n_embd // cfg.n_head
    proto = export(model, cfg.n_layer, cfg.n_head, head_dim, cfg.vocab_size, opset=a.opset)
    proto = deduplicate_tied_weights(proto, [['lm_head.weight', 'transformer.wte.weight']])
    onnx.checker.check_model(proto)
    onnx.save(proto, os.path.join(a.out, 'onnx', 'model.onnx'))
    size = os.path.getsize(os.path.join(a.out, 'onnx', 'model.onnx'))
    print(f'wrote {a.out}/onnx/model.onnx ({size} bytes, {len(proto.graph.node)} nodes)')

    tok = json.load(open(os.path.join(tokenizer_dir, 'tokenizer.json'), encoding='utf-8'))
    enc = Encoder(tok['model']['vocab'], [m.split(' ') for m in tok['model']['merges']])
    print(f'torch greedy, 60 tokens: {greedy(model, enc, tok["model"]["vocab"], a.prompt, 60)!r}')


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
