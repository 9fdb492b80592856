#!/usr/bin/python3
"""Trains the demo model: a GPT-2 (test/fixtures/tools/hf_models.py, transformers' parameter names) on the KJV
corpus with the tokenizer from tokenizer.py. Seeded and single-threaded, so a rerun gives the same weights.

  /usr/bin/python3 tools/train-demo/train.py [--data .cache/train-demo] [--steps 1400] [--long-steps 200] ...

Phase 1 trains on 256-token windows; the last --long-steps train on 512-token windows (the same tokens per
step), so that all 512 positions are trained. Every --eval-every steps it measures the loss on the held-out
book (Revelation) and appends a row to --log (step, tokens seen, window, learning rate, mean train loss since
the last row, held-out loss on 256-token windows, seconds). Writes <data>/model.pt (state dict) and <data>/model_config.json.

Debian's torch links the reference BLAS, which is ~10x slower than OpenBLAS; when Debian's libopenblas0-pthread
is installed the script runs itself again with OpenBLAS first on the library path (the system's choice of BLAS
is left alone).
"""
import os
import sys

OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread'
if os.path.isdir(OPENBLAS) and os.environ.get('LD_LIBRARY_PATH', '').split(':')[0] != OPENBLAS:
    env = dict(os.environ, LD_LIBRARY_PATH=':'.join(filter(None, [OPENBLAS, os.environ.get('LD_LIBRARY_PATH')])),
               OPENBLAS_NUM_THREADS='1', OMP_NUM_THREADS='1')
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, 'test', 'fixtures', 'tools'))
from bpe import Encoder  # noqa: E402
from hf_models import GPT2LMHeadModel, gpt2_config  # noqa: E402


def load_ids(data, tokenizer_dir):
    tok = json.load(open(os.path.join(tokenizer_dir, 'tokenizer.json'), encoding='utf-8'))
    enc = Encoder(tok['model']['vocab'], [m.split(' ') for m in tok['model']['merges']])
    read = lambda name: open(os.path.join(data, name), encoding='utf-8').read()
    return (torch.tensor(enc.encode(read('train.txt')), dtype=torch.long),
            torch.tensor(enc.encode(read('heldout.txt')), dtype=torch.long), len(tok['model']['vocab']))


def init_gpt2(model, n_layer):
    """GPT-2's initialisation: N(0, 0.02) for weights and embeddings, residual projections scaled by
    1/sqrt(2 * n_layer), zero biases, unit LayerNorms (hf_models leaves nn.Embedding at N(0, 1))."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'ln_' in name:
                p.fill_(1.0 if name.endswith('weight') else 0.0)
            elif name.endswith('bias'):
                p.zero_()
            elif name.endswith('c_proj.weight'):
                p.normal_(0.0, 0.02 / math.sqrt(2 * n_layer))
            else:
                p.normal_(0.0, 0.02)


def lm_loss(model, x):
    logits, _ = model(x[:, :-1], use_cache=False)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1))


@torch.no_grad()
def heldout_loss(model, ids, window):
    """Mean next-token loss over the held-out text cut into consecutive windows (the last partial one dropped)."""
    model.eval()
    n = (len(ids) - 1) // window
    total = 0.0
    for i in range(0, n, 8):
        rows = torch.stack([ids[j * window: j * window + window + 1] for j in range(i, min(n, i + 8))])
        total += lm_loss(model, rows).item() * rows.size(0)
    model.train()
    return total / n


def lr_at(step, steps, peak, warmup, floor):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * t))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='.cache/train-demo')
    ap.add_argument('--tokenizer', default=None, help='default <data>/tokenizer')
    ap.add_argument('--layers', type=int, default=5)
    ap.add_argument('--heads', type=int, default=6)
    ap.add_argument('--embd', type=int, default=192)
    ap.add_argument('--positions', type=int, default=512)
    ap.add_argument('--steps', type=int, default=1400, help='all steps, both phases')
    ap.add_argument('--long-steps', type=int, default=200, help='final steps on 512-token windows')
    ap.add_argument('--batch-tokens', type=int, default=2048)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--min-lr', type=float, default=1e-4)
    ap.add_argument('--warmup', type=int, default=40)
    ap.add_argument('--weight-decay', type=float, default=0.1)
    ap.add_argument('--eval-every', type=int, default=100)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--log', default='tools/train-demo/loss.tsv')
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    t0 = time.time()

    train_ids, held_ids, vocab_size = load_ids(a.data, a.tokenizer or os.path.join(a.data, 'tokenizer'))
    eot = vocab_size - 1
    cfg, cfg_dict = gpt2_config(a.layers, a.heads, a.embd, a.positions, vocab_size=vocab_size,
                                bos_token_id=eot, eos_token_id=eot, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(cfg)
    init_gpt2(model, a.layers)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())  # the tied LM head counted once
    print(f'{len(train_ids)} train tokens, {len(held_ids)} held-out tokens, vocabulary {vocab_size}; '
          f'{n_params} parameters; tokenized in {time.time() - t0:.1f} s', flush=True)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': a.weight_decay},
                             {'params': no_decay, 'weight_decay': 0.0}], lr=a.lr, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(a.seed)

    with open(a.log, 'w') as log:
        log.write(f'# {" ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])}  (seed {a.seed}, '
                  f'{n_params} parameters, {len(train_ids)} train tokens)\n')
        log.write('step\ttokens\twindow\tlr\ttrain_loss\theldout_loss\tseconds\n')
        tokens, since, since_n, trained_window = 0, 0.0, 0, '-'
        t_train = time.time()
        for step in range(a.steps + 1):
            if step % a.eval_every == 0 or step == a.steps:
                held = heldout_loss(model, held_ids, 256)
                train_loss = since / since_n if since_n else float('nan')
                lr = lr_at(min(step, a.steps - 1), a.steps, a.lr, a.warmup, a.min_lr)
                row = f'{step}\t{tokens}\t{trained_window}\t{lr:.6f}\t{train_loss:.4f}\t{held:.4f}\t{time.time() - t_train:.0f}'
                log.write(row + '\n')
                log.flush()
                print(row, flush=True)
                since, since_n = 0.0, 0
                torch.save(model.state_dict(), os.path.join(a.data, 'model.pt'))
            if step == a.steps:
                break
            window = a.positions if step >= a.steps - a.long_steps else 256
            for g in opt.param_groups:
                g['lr'] = lr_at(step, a.steps, a.lr, a.warmup, a.min_lr)
            batch = a.batch_tokens // window
            starts = torch.randint(0, len(train_ids) - window - 1, (batch,), generator=gen)
            x = torch.stack([train_ids[s:s + window + 1] for s in starts.tolist()])
            loss = lm_loss(model, x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tokens += batch * window
            since += loss.item()
            since_n += 1
            trained_window = window

    config = {k: cfg_dict[k] for k in sorted(cfg_dict)}
    json.dump({'config': config, 'n_params': n_params, 'seed': a.seed, 'steps': a.steps,
               'train_seconds': round(time.time() - t_train), 'train_tokens': tokens},
              open(os.path.join(a.data, 'model_config.json'), 'w'), indent=2)
    print(f'done: {a.steps} steps, {tokens} tokens in {time.time() - t_train:.0f} s', flush=True)


if __name__ == '__main__':
    main()
