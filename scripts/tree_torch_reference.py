"""PyTorch reference for the tree task's pretraining: does an ordinary PyTorch GPT of the same
shape learn to route, and how fast? It separates "our engine or recipe is wrong" from "this
model size and budget cannot learn the task".

It generates trees in the project's format (complete depth-4 binary trees named by a random
permutation of A-O, edges in level order, `...[ROOT]r[TARGET]t[ROUTE]route<end>`), trains a
pre-norm GPT (RMSNorm, RoPE, GELU MLP, tied embeddings, optional non-learnable QK-Norm as in
our Reasoner) with AdamW and warmup + cosine, and prints teacher-forced accuracy at the five
route targets (root, branch 1, branch 2, target, end) of 500 held-out trees.

Usage (Debian: apt-get install python3-torch libopenblas0-pthread):
  python3 scripts/tree_torch_reference.py [--layers 6 --d 128 --heads 4 --lr 2e-3
    --steps 3000 --batch 64 --trees 20000 --depth 4 --loss all|route
    --qk-norm none|fixed|learned|temp --attn-scale 1 --qkv-std 0.02 --positions rope|learned|both --threads 1 --eval-every 250 --seed 1
    --probe (attention diagnostics of the lookup circuit at every evaluation)]
"""
import argparse
import math
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
VOCAB = ["<pad>", "<end>", *LETTERS, ",", "[ROOT]", "[TARGET]", "[ROUTE]"]
ID = {t: i for i, t in enumerate(VOCAB)}


def tree_tokens(rng, depth=4, alphabet=15, targets="leaf", shuffle=False, per_tree=1):
    """One problem as token ids, and the index of the first route token.

    targets "leaf" draws the target among the leaves (the paper's task); "any" among all
    non-root nodes, so shorter routes (one or two lookups) come mixed into the data.
    shuffle lists the edges in random order instead of level order. per_tree > 1 returns a
    list of that many problems on one tree, each with its own target (distinct leaves).
    """
    n = 2 ** depth - 1
    names = rng.sample(LETTERS[:alphabet], n)
    edges = [(names[i], names[c]) for i in range((n - 1) // 2) for c in (2 * i + 1, 2 * i + 2)]
    if shuffle:
        rng.shuffle(edges)
    ids = []
    for p, c in edges:
        if ids:
            ids.append(ID[","])
        ids += [ID[p], ID[c]]
    pool = range((n - 1) // 2, n) if targets == "leaf" else range(1, n)
    problems = [problem(ids, names, leaf) for leaf in rng.sample(pool, per_tree)]
    return problems if per_tree > 1 else problems[0]


def problem(edge_ids, names, leaf):
    """The token ids of one routing question on a tree, and the index of its first route token."""
    ids = list(edge_ids)
    route, node = [], leaf
    while True:
        route.insert(0, names[node])
        if node == 0:
            break
        node = (node - 1) // 2
    ids += [ID["[ROOT]"], ID[names[0]], ID["[TARGET]"], ID[names[leaf]], ID["[ROUTE]"]]
    start = len(ids)
    ids += [ID[r] for r in route] + [ID["<end>"]]
    return ids, start


def rms(x, eps=1e-5):
    """x scaled to unit root-mean-square over its last dimension (torch 1.13 has no rms_norm)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return rms(x) * self.weight


def causal_attention(q, k, v, scale, record=None):
    """Softmax attention with a causal mask, scale attn_scale/sqrt(dh); record (a list) keeps the probabilities."""
    T = q.shape[-2]
    scores = (q @ k.transpose(-1, -2)) * (scale / math.sqrt(q.shape[-1]))
    scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    probs = scores.softmax(-1)
    if record is not None:
        record.append(probs.detach())
    return probs @ v


class Block(nn.Module):
    def __init__(self, d, heads, qk_norm, rope, attn_scale, qk_temp=10.0):
        super().__init__()
        self.attn_scale = attn_scale
        self.heads, self.qk_norm, self.rope = heads, qk_norm, rope
        self.norm1, self.norm2 = RMSNorm(d), RMSNorm(d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.proj = nn.Linear(d, d, bias=False)
        self.fc = nn.Linear(d, 4 * d, bias=False)
        self.out = nn.Linear(4 * d, d, bias=False)
        dh = d // heads
        self.q_gain = nn.Parameter(torch.ones(dh)) if qk_norm == "learned" else None
        self.k_gain = nn.Parameter(torch.ones(dh)) if qk_norm == "learned" else None
        # "temp": logits g·cos(q, k) with a learnable per-head g = g0·exp(s), s from 0 (no decay).
        self.log_temp = nn.Parameter(torch.zeros(heads)) if qk_norm == "temp" else None
        self.temp0 = qk_temp
        self.record = None  # a list to append attention probabilities (B, H, T, T) to, when probing

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(D, dim=-1)
        shape = (B, T, self.heads, D // self.heads)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
        if self.qk_norm != "none":
            q, k = rms(q), rms(k)
            if self.q_gain is not None:
                q, k = q * self.q_gain, k * self.k_gain
            if self.log_temp is not None:  # rms(q)·rms(k)/dh = cos; attention divides by sqrt(dh)
                q = q * (self.temp0 * self.log_temp.exp()).view(1, -1, 1, 1) / math.sqrt(q.shape[-1])
        q, k = self.rope(q), self.rope(k)
        a = causal_attention(q, k, v, self.attn_scale, self.record)
        x = x + self.proj(a.transpose(1, 2).reshape(B, T, D))
        return x + self.out(F.gelu(self.fc(self.norm2(x))))


class Rope(nn.Module):
    def __init__(self, dh, T, base=10000.0):
        super().__init__()
        freqs = base ** (-torch.arange(0, dh, 2).float() / dh)
        ang = torch.arange(T).float()[:, None] * freqs[None]
        self.register_buffer("cos", ang.cos(), persistent=False)
        self.register_buffer("sin", ang.sin(), persistent=False)

    def forward(self, x):
        T = x.shape[-2]
        x1, x2 = x[..., 0::2], x[..., 1::2]
        c, s = self.cos[:T], self.sin[:T]
        return torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), dim=-1).flatten(-2)


class GPT(nn.Module):
    def __init__(self, layers, d, heads, qk_norm, T, positions, attn_scale, qkv_std=0.02, qk_temp=10.0):
        super().__init__()
        self.emb = nn.Embedding(len(VOCAB), d)
        self.pos = nn.Parameter(torch.zeros(T, d)) if positions != "rope" else None
        rope = Rope(d // heads, T) if positions != "learned" else (lambda x: x)
        self.blocks = nn.ModuleList(Block(d, heads, qk_norm, rope, attn_scale, qk_temp) for _ in range(layers))
        self.norm = RMSNorm(d)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("proj.weight", "out.weight")) else 0.02
                std = qkv_std if name.endswith("qkv.weight") else std
                nn.init.normal_(p, 0.0, std)
        if self.pos is not None:
            nn.init.normal_(self.pos, 0.0, 0.02)

    def forward(self, ids):
        x = self.emb(ids)
        if self.pos is not None:
            x = x + self.pos[: ids.shape[1]]
        for b in self.blocks:
            x = b(x)
        return self.norm(x) @ self.emb.weight.T


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("layers", 6), ("d", 128), ("heads", 4), ("steps", 3000), ("batch", 64), ("trees", 20000),
                          ("threads", 1), ("eval-every", 250), ("seed", 1), ("warmup", 50), ("depth", 4), ("per-tree", 1)]:
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--attn-scale", type=float, default=1.0)
    ap.add_argument("--qkv-std", type=float, default=0.02)
    ap.add_argument("--loss", choices=["all", "route"], default="all")
    ap.add_argument("--qk-norm", choices=["none", "fixed", "learned", "temp"], default="fixed")
    ap.add_argument("--qk-temp", type=float, default=10.0)
    ap.add_argument("--targets", choices=["leaf", "any"], default="leaf")
    ap.add_argument("--fresh", action="store_true", help="new trees every batch instead of a fixed set")
    ap.add_argument("--shuffle-edges", action="store_true")
    ap.add_argument("--mask-route", type=float, default=0.0, help="probability of hiding each teacher-forced branch token")
    ap.add_argument("--probe", action="store_true", help="print attention diagnostics at every evaluation")
    ap.add_argument("--positions", choices=["rope", "learned", "both"], default="rope")
    o = ap.parse_args()
    torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)
    rng = random.Random(o.seed)
    make = lambda r: tree_tokens(r, o.depth, targets=o.targets, shuffle=o.shuffle_edges)
    train = [make(rng) for _ in range(o.trees)] if not o.fresh else None

    def fresh_batch():
        if o.per_tree == 1:
            return [make(rng) for _ in range(o.batch)]
        trees = [tree_tokens(rng, o.depth, targets=o.targets, shuffle=o.shuffle_edges, per_tree=o.per_tree) for _ in range(o.batch // o.per_tree)]
        return [p for t in trees for p in t]
    val = [tree_tokens(random.Random(10_000 + o.seed * 7 + i), o.depth, shuffle=o.shuffle_edges) for i in range(500)]
    T = len(val[0][0]) - 1
    start = val[0][1]

    def to_tensor(rows):
        return torch.tensor([t + [0] * (T + 1 - len(t)) for t, _ in rows])

    data = to_tensor(train) if train else None
    vdata = to_tensor(val)
    model = GPT(o.layers, o.d, o.heads, o.qk_norm, T, o.positions, o.attn_scale, o.qkv_std, o.qk_temp)
    decay = [p for p in model.parameters() if p.dim() == 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=o.lr, betas=(0.9, 0.95))
    mask = torch.zeros(T, dtype=torch.bool)
    mask[start - 1:] = True  # the targets at route positions: root, branch 1, branch 2, target, end

    def lr_at(step):
        if step < o.warmup:
            return o.lr * (step + 1) / o.warmup
        t = (step - o.warmup) / max(1, o.steps - o.warmup)
        return o.lr / 10 + 0.5 * (o.lr - o.lr / 10) * (1 + math.cos(math.pi * t))

    def evaluate():
        model.eval()
        with torch.no_grad():
            logits = model(vdata[:, :-1])
        model.train()
        pred = logits.argmax(-1)[:, start - 1:]
        right = pred == vdata[:, start:]
        return right.float().mean(0).tolist(), right.all(1).float().mean().item()

    def probe_attention(n=100):
        """Which parts of the lookup circuit exist: per layer and head, the attention a branch
        position puts on each later route node's edge occurrence (where it is written as a child),
        the previous-token head's strength, and entropy at branch positions."""
        ids = vdata[:n, :-1]
        for b in model.blocks:
            b.record = []
        model.eval()
        with torch.no_grad():
            model(ids)
        model.train()
        probs = torch.stack([b.record[0] for b in model.blocks])  # (L, B, H, T, T)
        for b in model.blocks:
            b.record = None
        L, B, H = probs.shape[:3]
        edge_end = start - 5  # edges occupy positions [0, edge_end)
        child = torch.arange(1, edge_end, 3)  # positions holding a child letter
        prev = probs[..., child, child - 1].mean(-1).mean(1)  # (L, H)
        l, h = divmod(int(prev.argmax()), H)
        lines = [f"    previous-token head: layer {l} head {h}, {100 * prev[l, h]:.0f} % on the parent letter"]
        route_len = o.depth
        for j in range(route_len - 2):  # branch positions: input route[j], next route[j + 1]
            q = start + j
            for m in range(j + 1, route_len):  # the edge occurrence of route node m (as a child)
                pos = torch.stack([child[(ids[i, child] == ids[i, start + m]).nonzero()[0, 0]] for i in range(B)])
                mass = probs[:, :, :, q, :].permute(1, 3, 0, 2)[torch.arange(B), pos].mean(0)  # (L, H)
                l, h = divmod(int(mass.argmax()), H)
                lines.append(f"    branch {j + 1} -> route node {m} edge: best layer {l} head {h} {100 * mass[l, h]:.0f} %, per layer max " + " ".join(f"{100 * x:.0f}" for x in mass.max(1).values.tolist()))
            p = probs[:, :, :, q, :q + 1]
            ent = -(p * (p + 1e-12).log()).sum(-1).mean(1)  # (L, H)
            lines.append(f"    branch {j + 1} entropy (nats) per layer, min over heads: " + " ".join(f"{x:.2f}" for x in ent.min(1).values.tolist()))
        print("\n".join(lines), flush=True)

    print(f"{sum(p.numel() for p in model.parameters())} parameters, {o.trees} trees, seq {T}, route targets at {start - 1}..{T - 1}")
    t0 = time.time()
    order = torch.randperm(len(data)) if data is not None else None
    cursor = 0
    for step in range(o.steps + 1):
        if step % o.eval_every == 0:
            per, exact = evaluate()
            print(f"step {step} ({time.time() - t0:.0f} s): route targets " + ", ".join(f"{100 * a:.1f}" for a in per) + f" %; all of them {100 * exact:.1f} %", flush=True)
            if o.probe:
                probe_attention()
        if step == o.steps:
            break
        if o.fresh:
            batch = to_tensor(fresh_batch())
        else:
            if cursor + o.batch > len(order):
                order, cursor = torch.randperm(len(data)), 0
            batch = data[order[cursor:cursor + o.batch]]
            cursor += o.batch
        inputs = batch[:, :-1].clone()
        if o.mask_route > 0:
            # Span dropout of the teacher-forced route: each branch token given as input is
            # replaced by <pad> with this probability, so "a child of the previous token" is no
            # shortcut and the branch has to be found from the target.
            span = inputs[:, start + 1:start + o.depth - 1]
            drop = torch.rand(span.shape) < o.mask_route
            inputs[:, start + 1:start + o.depth - 1] = span.masked_fill(drop, 0)
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, len(VOCAB)), batch[:, 1:].reshape(-1), reduction="none").view(o.batch, T)
        real = batch[:, 1:] != 0  # padding after a short route is no target
        keep = real & mask if o.loss == "route" else real
        loss = (loss * keep).sum() / keep.sum()
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0:
            print(f"  step {step} loss {loss.item():.4f}", flush=True)


if __name__ == "__main__":
    main()
