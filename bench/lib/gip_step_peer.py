#!/usr/bin/env python3
"""gip_step_peer.py: the PyTorch peer of `uniguard bench gip-step`, one GIP optimizer step written the way a
PyTorch user would write UniGuard's objective (Sources/Shared/Training/GuardrailPretrainer.swift, default
PretrainOptions: clsOnUnmasked, classBalance, dropout, all loss weights 1). Run it with the peer venv's python
(../shared/peer/setup.sh); prints one JSON line.

Correspondence, step by step (UniGuard -> here):
  dynamic masking, 15% of real non-special tokens, 80/10/10  -> the same rule with torch.rand (inside the timed step)
  forward over the masked batch (maskedWS)                  -> bert(masked_ids)                       [pass 1]
  MaskedLMHead on the masked positions only (gathered rows:
    dense + GELU + LayerNorm, decoder tied to the word
    embeddings + cls.predictions.bias), CE mean            -> mlm.cls(hidden[selected]), cross_entropy
  forward over the unmasked batch (cleanWS)                 -> bert(ids)                               [pass 2]
  mean pool + Linear(H, 2), CE weighted by
    BatchClassWeights (sum w_i CE_i / rows)                 -> cross_entropy(weight=w): its sum(w) is rows for balanced w
  p = softmax(clean logits), held constant                  -> softmax(logits.detach())
  random probe, per-sequence norm xi*sqrt(tokens), added to
    the summed input embeddings before the embedding LN     -> inputs_embeds = word_embeddings(ids) + d0
  forward at x+d0 (perturbedWS)                             -> bert(inputs_embeds=...)                 [pass 3]
  KL(p || softmax(z)) backward to the input only
    (classifier + encoder backward, parameterGradients:
    false)                                                  -> torch.autograd.grad(kl, d0): only the input path runs
  delta = eps * g / ||g|| per sequence (x sqrt(tokens))     -> the same normalisation
  forward at x+delta (perturbedWS again)                    -> bert(inputs_embeds=word_embeddings(ids) + delta) [pass 4]
  CE (class-weighted) + KL(p || p(x+delta))                 -> cross_entropy(weight=w) + kl_div(batchmean)
  three backward passes into the parameter gradients
    (adversarial, clean, masked)                            -> one (mlm + cls + adv + kl).backward() over the 3 graphs
  one dropout mask set shared by every pass (counter-based) -> torch.set_rng_state(saved) before each pass
  GradClip max norm 1, AdamW (lr 5e-5, wd 0.01, no decay on
    biases and LayerNorm)                                   -> clip_grad_norm_(1.0), torch.optim.AdamW, two groups
MLM head weights: all-MiniLM-L6-v2 ships none, so both sides initialise a same-shape head (transformers' init here,
UniGuard's seeded equivalent there); the decoder is the tied word-embedding table on both.
"""
import argparse
import json
import math
import os
import resource
import sys
import time


def stats_ms(samples):
    ms = sorted(s * 1000 for s in samples)

    def pct(p):
        return ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))]

    return {"n": len(ms), "median_ms": round(pct(50), 3), "p99_ms": round(pct(99), 3),
            "mean_ms": round(sum(ms) / len(ms), 3), "min_ms": round(ms[0], 3), "max_ms": round(ms[-1], 3)}


def rss_mib(peak):
    if peak:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=160)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--attn-impl", default="", help="transformers attn_implementation (default: transformers' choice)")
    a = ap.parse_args()
    for name, v, lo, hi in (("--threads", a.threads, 1, 1024), ("--batch", a.batch, 1, 4096), ("--seq", a.seq, 3, 512),
                            ("--steps", a.steps, 1, 1_000_000), ("--warmup", a.warmup, 0, 1_000_000)):
        if not lo <= v <= hi:
            sys.exit(f"gip_step_peer: {name} must be in {lo}...{hi} (got {v})")

    import torch
    import torch.nn.functional as F
    from torch import nn
    from transformers import AutoTokenizer, BertForMaskedLM
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    kw = {"attn_implementation": a.attn_impl} if a.attn_impl else {}
    mlm_model = BertForMaskedLM.from_pretrained(a.model_dir, **kw)  # BertModel (no pooler) + cls head, decoder tied
    bert, head = mlm_model.bert, mlm_model.cls
    cfg = bert.config
    tok = AutoTokenizer.from_pretrained(a.model_dir)
    torch.manual_seed(1234)
    classifier = nn.Linear(cfg.hidden_size, 2)
    nn.init.normal_(classifier.weight, std=0.02)
    nn.init.zeros_(classifier.bias)
    mlm_model.train()
    classifier.train()
    rss_loaded = rss_mib(False)

    named = list(mlm_model.named_parameters()) + [("classifier." + n, p) for n, p in classifier.named_parameters()]
    no_decay = [p for n, p in named if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for n, p in named if not (n.endswith("bias") or "LayerNorm" in n)]
    params = decay + no_decay
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=5e-5)

    # Synthetic batch, drawn as `uniguard bench gip-step` draws it: [CLS], uniform non-special ids, [SEP].
    specials = torch.tensor(sorted({tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id}))
    g = torch.Generator().manual_seed(1234)

    def non_special(shape):
        x = torch.randint(0, cfg.vocab_size, shape, generator=g)
        while True:
            bad = torch.isin(x, specials)
            if not bad.any():
                return x
            x[bad] = torch.randint(0, cfg.vocab_size, (int(bad.sum()),), generator=g)

    B, T, H = a.batch, a.seq, cfg.hidden_size
    ids = torch.cat([torch.full((B, 1), tok.cls_token_id), non_special((B, T - 2)), torch.full((B, 1), tok.sep_token_id)], 1)
    att = torch.ones(B, T, dtype=torch.long)
    y = torch.tensor([1 if r % 3 == 0 else 0 for r in range(B)])
    xi, eps = 0.01, 0.1

    def pooled_logits(hidden):
        m = att.unsqueeze(-1).to(hidden.dtype)
        return classifier((hidden * m).sum(1) / m.sum(1))

    def per_sequence(d, size):
        # per-sequence L2 norm size * sqrt(real tokens) (every token is real here)
        n = d.flatten(1).norm(dim=1).clamp_min(1e-30)
        return d * (size * math.sqrt(T) / n)[:, None, None]

    def step():
        opt.zero_grad(set_to_none=True)
        # dynamic masking
        cand = ~torch.isin(ids, specials)
        sel = (torch.rand(ids.shape, generator=g) < 0.15) & cand
        kind = torch.rand(ids.shape, generator=g)
        masked = ids.clone()
        masked[sel & (kind < 0.8)] = tok.mask_token_id
        rnd = sel & (kind >= 0.8) & (kind < 0.9)
        masked[rnd] = non_special((int(rnd.sum()),))
        labels = torch.where(sel, ids, torch.full_like(ids, -100))
        n_unsafe = int(y.sum())
        w = torch.tensor([B / (2 * (B - n_unsafe)), B / (2 * n_unsafe)]) if 0 < n_unsafe < B else None
        drop_state = torch.get_rng_state()

        h_m = bert(input_ids=masked, attention_mask=att).last_hidden_state
        mlm = F.cross_entropy(head(h_m[sel]), labels[sel]) if sel.any() else h_m.sum() * 0
        torch.set_rng_state(drop_state)
        z = pooled_logits(bert(input_ids=ids, attention_mask=att).last_hidden_state)
        cls = F.cross_entropy(z, y, weight=w)
        p = F.softmax(z.detach(), -1)

        words = bert.embeddings.word_embeddings(ids)
        d0 = per_sequence(torch.randn(B, T, H, generator=g), xi).requires_grad_()
        torch.set_rng_state(drop_state)
        zp = pooled_logits(bert(inputs_embeds=words.detach() + d0, attention_mask=att).last_hidden_state)
        (grad,) = torch.autograd.grad(F.kl_div(F.log_softmax(zp, -1), p, reduction="batchmean"), d0)
        delta = per_sequence(grad, eps)
        torch.set_rng_state(drop_state)
        za = pooled_logits(bert(inputs_embeds=words + delta, attention_mask=att).last_hidden_state)
        adv = F.cross_entropy(za, y, weight=w)
        kl = F.kl_div(F.log_softmax(za, -1), p, reduction="batchmean")
        total = mlm + cls + adv + kl
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return {"total": float(total), "mlm": float(mlm), "classification": float(cls), "adversarial": float(adv),
                "consistency": float(kl), "masked_tokens": int(sel.sum())}

    for _ in range(a.warmup):
        step()
    ts, last = [], None
    for _ in range(a.steps):
        t0 = time.perf_counter()
        last = step()
        ts.append(time.perf_counter() - t0)
    tot = sum(ts)
    print(json.dumps({
        "benchmark": "gip-step-torch", "threads": a.threads, "torch": torch.__version__, "torch_num_threads": torch.get_num_threads(),
        "attn_implementation": cfg._attn_implementation, "batch": B, "seq": T,
        "trainable_params": sum(p.numel() for p in params), "steps_timed": a.steps, "warmup_steps": a.warmup,
        "step_ms": stats_ms(ts), "samples_per_s": round(B * a.steps / tot, 3), "tokens_per_s": round(B * T * a.steps / tot, 3),
        "loss_last": last, "rss_after_load_mib": rss_loaded, "peak_rss_mib": rss_mib(True),
    }))


if __name__ == "__main__":
    main()
