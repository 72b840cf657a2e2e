#!/usr/bin/env python3
"""PyTorch CPU reference for the standard `jepa bench` workload.

Same architecture as tools/golden/gen_golden.py (pre-norm RMSNorm with gains, QK-Norm,
RoPE rotate-half, causal attention, GELU-tanh MLP, no biases, tied embedding head) at
vocab 512, d_model 256, 4 layers, 4 heads, attention width 256, MLP width 1024,
batch 16 x seq 128, float32, AdamW(lr 3e-4, betas (0.9,0.95), wd 0.1 on dim>=2 params),
global grad-norm clipping 1.0.

  train tokens/s : B*T / median time of one step (zero_grad + forward + loss + backward
                   + clip_grad_norm_ + optimizer.step), after --warmup steps
  infer tokens/s : B*T / median time of one forward (logits computed) under torch.no_grad()

Usage: /usr/bin/python3 bench/torch_reference.py [--threads 2] [--steps 10] [--warmup 3]
The last stdout line is one JSON object:
  {"train_tok_s":..., "infer_tok_s":..., "threads":..., "torch_version":"...",
   "attention":"sdpa|explicit", "steps":..., "openblas_core":"SkylakeX", "peak_rss_mb":..., ...}
"""
import argparse
import json
import math
import os
import statistics
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser(description="PyTorch reference for jepa bench")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10, help="measured steps (median), default 10")
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    if args.steps < 1 or args.threads < 1 or args.warmup < 0:
        print("error: --steps and --threads must be >= 1, --warmup >= 0", file=sys.stderr)
        sys.exit(2)
    return args


ARGS = parse_args()
# A torch built against a generic BLAS (Debian's python3-torch) does not pass its thread count
# to that library, so pin the BLAS/OpenMP pools through the environment before torch loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("error: PyTorch is not installed (python3-torch / pip torch); cannot run the reference bench",
          file=sys.stderr)
    sys.exit(2)

CFG = {"vocab": 512, "dModel": 256, "layers": 4, "heads": 4, "attnDim": 256, "mlpDim": 1024,
       "batch": 16, "seq": 128, "normEps": 1e-5, "ropeBase": 10000}
HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def rmsnorm(x, eps):
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Model(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        V, D, A, Fd = cfg["vocab"], cfg["dModel"], cfg["attnDim"], cfg["mlpDim"]
        self.H, self.A, self.dh, self.eps = cfg["heads"], A, A // cfg["heads"], cfg["normEps"]
        P = torch.nn.Parameter
        self.wte = P(torch.randn(V, D) * 0.02)
        self.norm1 = torch.nn.ParameterList([P(torch.ones(D)) for _ in range(cfg["layers"])])
        self.qkv = torch.nn.ParameterList([P(torch.randn(3 * A, D) * 0.02) for _ in range(cfg["layers"])])
        self.aproj = torch.nn.ParameterList([P(torch.randn(D, A) * 0.02) for _ in range(cfg["layers"])])
        self.norm2 = torch.nn.ParameterList([P(torch.ones(D)) for _ in range(cfg["layers"])])
        self.fc = torch.nn.ParameterList([P(torch.randn(Fd, D) * 0.02) for _ in range(cfg["layers"])])
        self.mproj = torch.nn.ParameterList([P(torch.randn(D, Fd) * 0.02) for _ in range(cfg["layers"])])
        self.norm_f = P(torch.ones(D))
        T, dh = cfg["seq"], self.dh
        inv_freq = 1.0 / (cfg["ropeBase"] ** (torch.arange(0, dh, 2, dtype=torch.float32) / dh))
        ang = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)
        emb = torch.cat((ang, ang), dim=-1)
        self.register_buffer("cos", emb.cos().view(1, 1, T, dh), persistent=False)
        self.register_buffer("sin", emb.sin().view(1, 1, T, dh), persistent=False)
        self.register_buffer("causal", torch.ones(T, T, dtype=torch.bool).tril(), persistent=False)

    def attention(self, q, k, v):  # (B,H,T,dh)
        if HAS_SDPA:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.dh))
        s = s.masked_fill(~self.causal, float("-inf"))
        return torch.softmax(s, dim=-1) @ v

    def forward(self, tokens):
        B, T = tokens.shape
        H, A, dh, eps = self.H, self.A, self.dh, self.eps
        x = F.embedding(tokens, self.wte)
        for i in range(self.cfg["layers"]):
            h = rmsnorm(x, eps) * self.norm1[i]
            qkv = F.linear(h, self.qkv[i]).view(B, T, 3, H, dh).permute(2, 0, 3, 1, 4)  # (3,B,H,T,dh)
            q, k, v = qkv[0], qkv[1], qkv[2]
            q = rmsnorm(q, eps)
            k = rmsnorm(k, eps)
            q = q * self.cos + rotate_half(q) * self.sin
            k = k * self.cos + rotate_half(k) * self.sin
            a = self.attention(q, k, v).transpose(1, 2).reshape(B, T, A)
            x = x + F.linear(a, self.aproj[i])
            h = rmsnorm(x, eps) * self.norm2[i]
            x = x + F.linear(F.gelu(F.linear(h, self.fc[i]), approximate="tanh"), self.mproj[i])
        return F.linear(rmsnorm(x, eps) * self.norm_f, self.wte)  # tied head


def blas_library():
    """Which BLAS shared library this process actually loaded (Linux only; best effort)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
        names = sorted(os.path.realpath(x) for x in libs if x.startswith("/"))
        for key in ("mkl", "openblas", "blis", "atlas"):
            if any(key in n.lower() for n in names):
                return key
        return "reference" if names else "unknown"
    except OSError:
        return "unknown"


def openblas_core():
    """The kernel set OpenBLAS chose for this CPU (e.g. SkylakeX), asked of the loaded library."""
    try:
        import ctypes
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
        for path in libs:
            fn = getattr(ctypes.CDLL(path), "openblas_get_corename", None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode().strip()
    except (OSError, AttributeError):
        pass
    return None


def peak_rss_mb():
    """Peak resident memory of this process in MB (Linux reports ru_maxrss in KB)."""
    import resource
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def matmul_gflops(n, repeats=20):
    """GFLOP/s of one n×n×n float32 product (torch.mm, i.e. the BLAS's sgemm), median of repeats."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        torch.mm(a, b)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    return round(2 * n ** 3 / statistics.median(times) / 1e9, 1)


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = CFG
    B, T, V = cfg["batch"], cfg["seq"], cfg["vocab"]
    model = Model(cfg)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
    params = list(model.parameters())
    data = torch.randint(0, V, (B, T + 1))
    tokens, targets = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    def train_step():
        opt.zero_grad(set_to_none=True)
        logits = model(tokens)
        loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    train_times = []
    loss = float("nan")
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        loss = train_step()
        dt = time.perf_counter() - t0
        if i >= args.warmup:
            train_times.append(dt)

    infer_times = []
    with torch.no_grad():
        for i in range(args.warmup + args.steps):
            t0 = time.perf_counter()
            logits = model(tokens)
            logits.sum().item()  # make sure the result is materialised
            dt = time.perf_counter() - t0
            if i >= args.warmup:
                infer_times.append(dt)

    rss = peak_rss_mb()  # before the product below, whose matrices are not part of the workload
    matmul = matmul_gflops(1024)
    ntok = B * T
    train_med = statistics.median(train_times)
    infer_med = statistics.median(infer_times)
    print(f"torch {torch.__version__}, threads {args.threads}, attention "
          f"{'sdpa' if HAS_SDPA else 'explicit'}; train step {train_med * 1e3:.1f} ms, "
          f"forward {infer_med * 1e3:.1f} ms, final loss {loss:.4f}, blas {blas_library()} "
          f"({openblas_core() or 'core unknown'})", file=sys.stderr)
    print(json.dumps({
        "train_tok_s": round(ntok / train_med, 1),
        "infer_tok_s": round(ntok / infer_med, 1),
        "threads": args.threads,
        "torch_version": torch.__version__,
        "attention": "sdpa" if HAS_SDPA else "explicit",
        "steps": args.steps,
        "warmup": args.warmup,
        "train_step_ms": round(train_med * 1e3, 3),
        "infer_ms": round(infer_med * 1e3, 3),
        "tokens_per_step": ntok,
        "blas": blas_library(),
        "openblas_core": openblas_core(),
        "peak_rss_mb": rss,
        "matmul_1024_gflops": matmul,
    }))


if __name__ == "__main__":
    main()
