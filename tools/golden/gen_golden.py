#!/usr/bin/env python3
"""Generate the golden PyTorch fixture test/fixtures/golden-gpt.safetensors.

Run:  /usr/bin/python3 tools/golden/gen_golden.py [--out PATH] [--config '{"mlpDim":64}']

Reference model (the TypeScript engine implements exactly the same math)
-----------------------------------------------------------------------
Sizes (fixture): vocab V=64, d_model D=32, layers L=2, heads H=4,
attention width A=32 (head dim dh=A/H=8), MLP width F=128, batch B=2, seq T=16.
No biases anywhere. Linear weights use the PyTorch layout (out, in): y = x @ W.T.

Parameters:
  wte.weight                 (V, D)   token embedding, also the (tied) output head
  blocks.{i}.norm1.weight    (D,)     RMSNorm gain before attention
  blocks.{i}.attn.qkv.weight (3A, D)  rows 0:A -> q, A:2A -> k, 2A:3A -> v;
                                      head h uses columns h*dh:(h+1)*dh of q/k/v
  blocks.{i}.attn.proj.weight (D, A)
  blocks.{i}.norm2.weight    (D,)
  blocks.{i}.mlp.fc.weight   (F, D)
  blocks.{i}.mlp.proj.weight (D, F)
  norm_f.weight              (D,)

Forward (eps = 1e-5, rope base = 10000):
  rmsnorm(x)      = x / sqrt(mean(x^2 over last dim) + eps)
  x               = wte[tokens]                                  (B,T,D)
  per block:
    h             = rmsnorm(x) * norm1.weight
    q,k,v         = split(h @ qkv.weight.T) -> each (B,T,H,dh)
    q, k          = q / sqrt(mean(q^2 over dh) + eps), same for k   (QK-Norm, no params)
    q, k          = RoPE, rotate-half convention: pairs (i, i+dh/2),
                    inv_freq[i] = base^(-2i/dh) for i < dh/2 (computed as
                    1 / base**(arange(0,dh,2)/dh) in float32), angle = pos*inv_freq,
                    pos = 0..T-1, cos/sin of the float32 angle,
                    out = x*cos(emb) + rotate_half(x)*sin(emb),
                    emb = cat(angle, angle), rotate_half(x) = cat(-x[dh/2:], x[:dh/2])
    att           = softmax(q k^T / sqrt(dh) with causal mask (j > t -> -inf)) v
    x             = x + concat_heads(att) @ attn.proj.weight.T
    h             = rmsnorm(x) * norm2.weight
    x             = x + gelu_tanh(h @ mlp.fc.weight.T) @ mlp.proj.weight.T
  h_final         = rmsnorm(x) * norm_f.weight
  logits          = h_final @ wte.weight.T                       (tied head)
  loss            = cross_entropy(logits.view(-1,V), targets.view(-1), ignore_index=-1)
                    (mean over non-ignored positions)
gelu_tanh(u) = 0.5*u*(1 + tanh(sqrt(2/pi)*(u + 0.044715*u^3)))  (F.gelu approximate="tanh").

Latent mode check:
  latent.out      = h_final / ||h_final||_2 over D                (B,T,D)
  cosine.loss     = mean over t with targets_t != -1 of k*(1 - cos(h_final_t, wte[targets_t])), k=4
                    cos(a,b) = (a.b)/(||a|| ||b||); the target embedding wte[targets] is NOT detached,
                    so grad flows into wte through both the model and the target.
  cosgrad.<name>  = d cosine.loss / d param (fresh gradients)
  cosgrad_detached.wte.weight = the same gradient for wte when the target embedding is detached
                    (stop-grad); every other parameter's gradient is identical in both conventions.

Optimizer run (10 steps on the same batch, from the initial params):
  each step: zero grads; loss = forward; backward;
             total = clip_grad_norm_(all params, 1.0)  (total = sqrt(sum of squared per-tensor
             L2 norms); grads *= min(1, 1.0 / (total + 1e-6)));
             AdamW step (torch semantics):
               p   *= 1 - lr*wd                      (wd=0.1 for dim>=2 params, 0 for the gains)
               m    = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
               p   -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
  adamw.losses    (10,) loss before each step
  adamw.gradnorms (10,) unclipped total norm returned by clip_grad_norm_
  after.<name>    params after the 10 steps

Talkers (--talkers): test/fixtures/golden-talkers.safetensors holds a Mono-Talker and a
Dual-Talker (docs/checkpoint-format.md sections 5.3, 5.4, 6.7, 6.8; the forward is
python/jepa_torch/model.py), each with its initial parameters, its logits for a fixed chain of
unit-norm latents (and, for Dual, decoder tokens), the mean cross-entropy against fixed targets
and every parameter's gradient: input.latents (S,L), input.decoder_tokens (S,) I32,
input.targets (S,) I32, {mono,dual}.param.<name>, {mono,dual}.logits (S,V), {mono,dual}.loss (),
{mono,dual}.grad.<name>; metadata `talkers` holds both Talker configs (config.json's `talker`).

Fixture layout (safetensors, all little-endian):
  input.tokens (B,T) I32, input.targets (B,T) I32 (-1 = ignored),
  param.<name>, grad.<name>, after.<name>, cosgrad.<name> F32,
  logits (B,T,V) F32, loss () F32 [0-d, shape []], latent.out (B,T,D) F32,
  cosine.loss () F32 [shape []], adamw.losses (10,) F32, adamw.gradnorms (10,) F32,
  cosgrad_detached.wte.weight (V,D) F32.
  __metadata__: config, init, adamw, precision (float32 vs float64 differences of the same
  computation, for choosing tolerances), torch_version, notes.  All values are JSON strings.
"""
import argparse
import json
import math
import os
import struct
import sys

# One thread everywhere (torch intra-op, OpenMP, and a system BLAS that torch does not control)
# so that reductions happen in the same order on every run.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write("error: PyTorch is not installed (use /usr/bin/python3 with python3-torch)\n")
    sys.exit(1)

SEED = 1234
# Block matrices: N(0, 0.02) would leave the MLP almost linear and the residual updates tiny
# compared with wte (std 0.3); 0.1 gives visibly non-linear GELU inputs and gradients of a
# useful magnitude in every parameter while staying a realistic, well-conditioned model.
INIT = {"wte_std": 0.3, "matrix_std": 0.1, "gain": "1 + 0.1*N(0,1)", "seed": SEED}


def param_shapes(cfg):
    V, D, A, Fd = cfg["vocab"], cfg["dModel"], cfg["attnDim"], cfg["mlpDim"]
    shapes = [("wte.weight", (V, D))]
    for i in range(cfg["layers"]):
        p = f"blocks.{i}."
        shapes += [
            (p + "norm1.weight", (D,)),
            (p + "attn.qkv.weight", (3 * A, D)),
            (p + "attn.proj.weight", (D, A)),
            (p + "norm2.weight", (D,)),
            (p + "mlp.fc.weight", (Fd, D)),
            (p + "mlp.proj.weight", (D, Fd)),
        ]
    shapes.append(("norm_f.weight", (D,)))
    return shapes


def init_params(cfg):
    params = {}
    for name, shape in param_shapes(cfg):
        if name == "wte.weight":
            t = torch.randn(shape) * INIT["wte_std"]
        elif len(shape) >= 2:
            t = torch.randn(shape) * INIT["matrix_std"]
        else:
            t = 1.0 + 0.1 * torch.randn(shape)
        params[name] = t.float().contiguous()
    return params


def rmsnorm(x, eps):
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_tables(T, dh, base, dtype):
    # Computed in `dtype` (float32 for the reference, float64 for the precision check).
    inv_freq = 1.0 / (base ** (torch.arange(0, dh, 2, dtype=dtype) / dh))
    pos = torch.arange(T, dtype=dtype)
    angle = torch.outer(pos, inv_freq)  # (T, dh/2)
    emb = torch.cat((angle, angle), dim=-1)  # (T, dh)
    return emb.cos(), emb.sin()


def forward_hidden(params, tokens, cfg):
    """Returns h_final = rmsnorm(x) * norm_f.weight, shape (B,T,D)."""
    B, T = tokens.shape
    H, A = cfg["heads"], cfg["attnDim"]
    dh = A // H
    eps = cfg["normEps"]
    wte = params["wte.weight"]
    dtype = wte.dtype
    cos, sin = rope_tables(T, dh, cfg["ropeBase"], dtype)
    cos = cos.view(1, T, 1, dh)
    sin = sin.view(1, T, 1, dh)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    x = wte[tokens.long()]  # (B,T,D)
    for i in range(cfg["layers"]):
        p = f"blocks.{i}."
        h = rmsnorm(x, eps) * params[p + "norm1.weight"]
        qkv = h @ params[p + "attn.qkv.weight"].t()  # (B,T,3A)
        q = qkv[..., 0:A].reshape(B, T, H, dh)
        k = qkv[..., A:2 * A].reshape(B, T, H, dh)
        v = qkv[..., 2 * A:3 * A].reshape(B, T, H, dh)
        q = rmsnorm(q, eps)
        k = rmsnorm(k, eps)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        q = q.transpose(1, 2)  # (B,H,T,dh)
        k = k.transpose(1, 2)
        v = v.transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh)  # (B,H,T,T)
        scores = scores.masked_fill(~causal, float("-inf"))
        att = torch.softmax(scores, dim=-1) @ v  # (B,H,T,dh)
        att = att.transpose(1, 2).reshape(B, T, A)
        x = x + att @ params[p + "attn.proj.weight"].t()
        h = rmsnorm(x, eps) * params[p + "norm2.weight"]
        u = F.gelu(h @ params[p + "mlp.fc.weight"].t(), approximate="tanh")
        x = x + u @ params[p + "mlp.proj.weight"].t()
    return rmsnorm(x, eps) * params["norm_f.weight"]


def lm_loss(params, tokens, targets, cfg):
    h = forward_hidden(params, tokens, cfg)
    logits = h @ params["wte.weight"].t()
    loss = F.cross_entropy(logits.reshape(-1, cfg["vocab"]), targets.reshape(-1).long(), ignore_index=-1)
    return logits, loss


def cosine_loss(params, tokens, targets, cfg, k=4.0, detach_target=False):
    h = forward_hidden(params, tokens, cfg)  # (B,T,D)
    latent = h / h.norm(dim=-1, keepdim=True)
    mask = targets != -1
    tgt = params["wte.weight"][targets.clamp(min=0).long()]  # (B,T,D); ignored rows masked below
    if detach_target:
        tgt = tgt.detach()
    cos = (h * tgt).sum(dim=-1) / (h.norm(dim=-1) * tgt.norm(dim=-1))
    per = k * (1.0 - cos)
    loss = per[mask].sum() / mask.sum()
    return latent, loss


def leaf_copy(params, dtype):
    return {n: t.detach().clone().to(dtype).requires_grad_(True) for n, t in params.items()}


def grads_of(params, loss):
    for t in params.values():
        t.grad = None
    loss.backward()
    return {n: t.grad.detach().clone() for n, t in params.items()}


def run_adamw(params, tokens, targets, cfg, opt_cfg):
    names = list(params.keys())
    decay = [params[n] for n in names if params[n].dim() >= 2]
    no_decay = [params[n] for n in names if params[n].dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": opt_cfg["weightDecay"]},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=opt_cfg["lr"], betas=tuple(opt_cfg["betas"]), eps=opt_cfg["eps"])
    losses, norms = [], []
    for _ in range(opt_cfg["steps"]):
        opt.zero_grad(set_to_none=True)
        _, loss = lm_loss(params, tokens, targets, cfg)
        loss.backward()
        total = torch.nn.utils.clip_grad_norm_([params[n] for n in names], opt_cfg["clip"])
        losses.append(loss.item())
        norms.append(total.item())
        opt.step()
    return losses, norms, {n: t.detach().clone() for n, t in params.items()}


# --------------------------------------------------------------------------- safetensors I/O

DTYPES = {torch.float32: ("F32", "<f4"), torch.int32: ("I32", "<i4")}


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, tensor) in file order. Little-endian, contiguous, no holes."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        if t.dtype not in DTYPES:
            raise TypeError(f"{name}: unsupported dtype {t.dtype}")
        code, npfmt = DTYPES[t.dtype]
        data = t.numpy().astype(npfmt, copy=False).tobytes(order="C")
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header length not padded to 8"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    spans = []
    for name, info in header.items():
        b, e = info["data_offsets"]
        spans.append((b, e))
        npfmt = {"F32": "<f4", "I32": "<i4"}[info["dtype"]]
        arr = np.frombuffer(data[b:e], dtype=npfmt).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    spans.sort()
    pos = 0
    for b, e in spans:
        assert b == pos, "hole or overlap in data section"
        pos = e
    assert pos == len(data), "trailing bytes after last tensor"
    return out, meta


# --------------------------------------------------------------------------- main

def blas_library():
    """The BLAS shared library this process loaded (results differ in the last bits between BLAS builds)."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({os.path.realpath(l.split()[-1]) for l in f
                           if l.split()[-1].startswith("/") and ("blas" in l.lower() or "mkl" in l.lower())})
        return ", ".join(libs) or "none found"
    except OSError:
        return "unknown"


def max_abs(a, b):
    return float((a.double() - b.double()).abs().max())


def max_rel(a, b):
    a, b = a.double(), b.double()
    return float(((a - b).abs() / b.abs().clamp(min=1e-3)).max())


# --------------------------------------------------------------------------- Talkers

TALKER_BASE = {"normEps": 1e-5, "ropeBase": 10000, "vocab": 13}
TALKERS = {
    # Narrower than the latents (in_proj), attention wider than the stream, sharper softmax.
    "mono": {"kind": "mono", "latentDim": 16, "encoderLayers": 0, "causal": False,
             "stack": {**TALKER_BASE, "dModel": 12, "layers": 2, "heads": 2, "attnDim": 16, "mlpDim": 24, "attnScale": 1.5}},
    # The learnable-temperature QK-Norm in every attention layer, self and cross.
    "dual": {"kind": "dual", "latentDim": 16, "encoderLayers": 1, "causal": False,
             "stack": {**TALKER_BASE, "dModel": 20, "layers": 2, "heads": 2, "attnDim": 16, "mlpDim": 24, "qkNorm": "temp", "qkTemp": 4}},
}


def stack_shapes(prefix, c, cross):
    """Block tensors of a stack, as docs/checkpoint-format.md tables them."""
    D, A, Fd, H = c["dModel"], c["attnDim"], c["mlpDim"], c["heads"]
    temp = c.get("qkNorm") == "temp"
    out = [(prefix + "norm1.weight", (D,)), (prefix + "attn.qkv.weight", (3 * A, D))]
    out += [(prefix + "attn.qk_temp", (H,))] if temp else []
    out += [(prefix + "attn.proj.weight", (D, A)), (prefix + "norm2.weight", (D,)),
            (prefix + "mlp.fc.weight", (Fd, D)), (prefix + "mlp.proj.weight", (D, Fd))]
    if cross:
        out += [(prefix + "norm_x.weight", (D,)), (prefix + "cross.q.weight", (A, D)),
                (prefix + "cross.kv.weight", (2 * A, D)), (prefix + "cross.proj.weight", (D, A))]
        out += [(prefix + "cross.qk_temp", (H,))] if temp else []
    return out


def talker_shapes(t):
    """Every tensor of a Talker (names without the checkpoint's `talker.` prefix)."""
    c = t["stack"]
    D, V = c["dModel"], c["vocab"]
    out = [("in_proj.weight", (D, t["latentDim"]))] if t["latentDim"] != D else []
    if t["kind"] == "mono":
        for i in range(c["layers"]):
            out += stack_shapes(f"blocks.{i}.", c, False)
        return out + [("norm_f.weight", (D,)), ("lm_head.weight", (V, D))]
    for j in range(t["encoderLayers"]):
        out += stack_shapes(f"encoder.{j}.", c, False)
    out += [("encoder_norm.weight", (D,)), ("wte.weight", (V, D))]
    for i in range(c["layers"]):
        out += stack_shapes(f"decoder.{i}.", c, True)
    return out + [("norm_f.weight", (D,))]


def talker_params(t):
    """Matrices N(0, 0.3^2), gains 1 + 0.1 N(0, 1), QK-Norm log-temperatures N(0, 0.3^2)."""
    params = {}
    for name, shape in talker_shapes(t):
        gain = len(shape) == 1 and not name.endswith("qk_temp")
        params[name] = (1.0 + 0.1 * torch.randn(shape) if gain else 0.3 * torch.randn(shape)).float().contiguous()
    return params


def talker_logits(t, params, latents, decoder_tokens):
    """The Talker's logits (S, V) through python/jepa_torch/model.py."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    from jepa_torch import model
    stack = model.Stack(t["stack"], params, "")
    if t["kind"] == "mono":
        return model.mono_logits(stack, latents, t["causal"])
    return model.dual_logits(stack, model.dual_encode(stack, latents, t["encoderLayers"]), decoder_tokens.tolist())


def write_talkers(path):
    """Writes the Talkers' fixture (see the module docstring)."""
    torch.manual_seed(SEED + 1)
    S, L, V = 6, 16, TALKER_BASE["vocab"]
    latents = torch.randn(S, L)
    latents = latents / latents.norm(dim=-1, keepdim=True)
    decoder_tokens = torch.randint(0, V, (S,), dtype=torch.int32)
    targets = torch.randint(0, V, (S,), dtype=torch.int32)
    tensors = [("input.latents", latents), ("input.decoder_tokens", decoder_tokens), ("input.targets", targets)]
    for kind, t in TALKERS.items():
        init = talker_params(t)
        params = leaf_copy(init, torch.float32)
        logits = talker_logits(t, params, latents, decoder_tokens)
        loss = F.cross_entropy(logits, targets.long())
        grads = grads_of(params, loss)
        names = [n for n, _ in talker_shapes(t)]
        tensors += [(f"{kind}.param.{n}", init[n]) for n in names]
        tensors += [(f"{kind}.logits", logits.detach()), (f"{kind}.loss", loss.detach().reshape(()))]
        tensors += [(f"{kind}.grad.{n}", grads[n]) for n in names]
    metadata = {"talkers": json.dumps(TALKERS), "torch_version": torch.__version__, "blas": blas_library(),
                "generator": "tools/golden/gen_golden.py --talkers"}
    write_safetensors(path, tensors, metadata)
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(tensors)} tensors)")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "..", "test", "fixtures", "golden-gpt.safetensors"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=default_out)
    ap.add_argument("--config", default="{}",
                    help='JSON overrides of the sizes, e.g. \'{"vocab":32,"mlpDim":64}\' (the committed fixture uses the defaults)')
    ap.add_argument("--talkers", action="store_true",
                    help="write the Talkers' fixture test/fixtures/golden-talkers.safetensors (or --out) instead")
    args = ap.parse_args()
    if args.talkers:
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(1)
        fixtures = os.path.dirname(default_out)
        write_talkers(args.out if args.out != default_out else os.path.join(fixtures, "golden-talkers.safetensors"))
        return

    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # no reduction-order differences between machines

    cfg = {"vocab": 64, "dModel": 32, "layers": 2, "heads": 4, "attnDim": 32, "mlpDim": 128,
           "batch": 2, "seq": 16, "normEps": 1e-5, "ropeBase": 10000}
    cfg.update(json.loads(args.config))
    assert cfg["attnDim"] % cfg["heads"] == 0 and (cfg["attnDim"] // cfg["heads"]) % 2 == 0
    opt_cfg = {"lr": 1e-2, "betas": [0.9, 0.95], "eps": 1e-8, "weightDecay": 0.1,
               "weightDecayOn": "params with dim >= 2 (wte and all matrices); gains get 0",
               "clip": 1.0, "clipFormula": "total=sqrt(sum_i ||g_i||^2); g *= min(1, clip/(total+1e-6))",
               "steps": 10, "cosineK": 4.0}
    B, T, V = cfg["batch"], cfg["seq"], cfg["vocab"]

    # ---- inputs
    init = init_params(cfg)
    tokens = torch.randint(0, V, (B, T), dtype=torch.int64).to(torch.int32)
    targets = torch.full((B, T), -1, dtype=torch.int32)
    targets[:, :-1] = tokens[:, 1:]
    for b in range(B):
        drop = torch.randperm(T - 1)[:3]  # 3 distinct positions among 0..T-2 per row
        targets[b, drop] = -1

    results = {}
    for dtype in (torch.float32, torch.float64):
        r = {}
        p = leaf_copy(init, dtype)
        logits, loss = lm_loss(p, tokens, targets, cfg)
        r["logits"], r["loss"] = logits.detach().clone(), loss.detach().clone()
        r["grad"] = grads_of(p, loss)
        p = leaf_copy(init, dtype)
        latent, closs = cosine_loss(p, tokens, targets, cfg, k=opt_cfg["cosineK"])
        r["latent"], r["closs"] = latent.detach().clone(), closs.detach().clone()
        r["cosgrad"] = grads_of(p, closs)
        p = leaf_copy(init, dtype)
        _, closs_d = cosine_loss(p, tokens, targets, cfg, k=opt_cfg["cosineK"], detach_target=True)
        r["cosgrad_detached_wte"] = grads_of(p, closs_d)["wte.weight"]
        p = leaf_copy(init, dtype)
        r["losses"], r["norms"], r["after"] = run_adamw(p, tokens, targets, cfg, opt_cfg)
        results[dtype] = r

    r32, r64 = results[torch.float32], results[torch.float64]
    precision = {
        "what": "max |float32 - float64| of the same computation (float64 = same code, params cast to double)",
        "logitsMaxAbs": max_abs(r32["logits"], r64["logits"]),
        "lossAbs": max_abs(r32["loss"], r64["loss"]),
        "gradMaxAbs": max(max_abs(r32["grad"][n], r64["grad"][n]) for n in init),
        "gradMaxAbsOverMaxGrad": max(max_abs(r32["grad"][n], r64["grad"][n]) / float(r64["grad"][n].abs().max())
                                     for n in init),
        "latentMaxAbs": max_abs(r32["latent"], r64["latent"]),
        "cosineLossAbs": max_abs(r32["closs"], r64["closs"]),
        "cosgradMaxAbs": max(max_abs(r32["cosgrad"][n], r64["cosgrad"][n]) for n in init),
        "adamwLossesMaxAbs": max_abs(torch.tensor(r32["losses"]), torch.tensor(r64["losses"])),
        "adamwGradnormsMaxAbs": max_abs(torch.tensor(r32["norms"]), torch.tensor(r64["norms"])),
        "afterMaxAbs": max(max_abs(r32["after"][n], r64["after"][n]) for n in init),
    }

    names = [n for n, _ in param_shapes(cfg)]
    tensors = [("input.tokens", tokens), ("input.targets", targets)]
    tensors += [("param." + n, init[n]) for n in names]
    tensors += [("logits", r32["logits"]), ("loss", r32["loss"].reshape(()))]
    tensors += [("grad." + n, r32["grad"][n]) for n in names]
    tensors += [("adamw.losses", torch.tensor(r32["losses"], dtype=torch.float32)),
                ("adamw.gradnorms", torch.tensor(r32["norms"], dtype=torch.float32))]
    tensors += [("after." + n, r32["after"][n]) for n in names]
    tensors += [("latent.out", r32["latent"]), ("cosine.loss", r32["closs"].reshape(()))]
    tensors += [("cosgrad." + n, r32["cosgrad"][n]) for n in names]
    tensors += [("cosgrad_detached.wte.weight", r32["cosgrad_detached_wte"])]

    metadata = {
        "config": json.dumps(cfg),
        "init": json.dumps(INIT),
        "adamw": json.dumps(opt_cfg),
        "precision": json.dumps(precision),
        "torch_version": torch.__version__,
        "blas": blas_library(),
        "notes": json.dumps({
            "lossShape": "loss and cosine.loss are 0-d tensors (shape [])",
            "targets": "tokens shifted left; last position of each row and 3 random other positions per row are -1 (ignored)",
            "cosineTarget": "cosgrad.*: wte[targets] not detached; cosgrad_detached.wte.weight: target detached "
                            "(other params' gradients are identical in both conventions)",
            "layout": "Linear weights (out,in), y = x @ W.T; qkv rows q|k|v; tied head logits = h @ wte.T",
            "generator": "tools/golden/gen_golden.py",
        }),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_safetensors(args.out, tensors, metadata)

    # ---- verify by reading back
    back, meta = read_safetensors(args.out)
    assert list(back.keys()) == [n for n, _ in tensors], "tensor order/name mismatch"
    for name, t in tensors:
        b = back[name]
        assert tuple(b.shape) == tuple(t.shape), name
        assert b.dtype == t.dtype, name
        assert torch.equal(b, t.detach()), name
    assert json.loads(meta["config"]) == cfg
    # recompute the loss from the file's params to make sure the file is self-consistent
    p = {n: back["param." + n].clone() for n in names}
    logits, loss = lm_loss(p, back["input.tokens"], back["input.targets"], cfg)
    assert torch.equal(logits, back["logits"]) and torch.equal(loss, back["loss"])

    size = os.path.getsize(args.out)
    print(f"wrote {args.out} ({size} bytes, {len(tensors)} tensors), torch {torch.__version__}")
    print("config:", meta["config"])
    print("blas:", meta["blas"])
    print(f"loss {float(r32['loss']):.6f}  cosine.loss {float(r32['closs']):.6f}")
    print("adamw losses:", " ".join(f"{x:.4f}" for x in r32["losses"]))
    print("adamw gradnorms:", " ".join(f"{x:.4f}" for x in r32["norms"]))
    print("grad max|.| per param:", {n: round(float(r32["grad"][n].abs().max()), 5) for n in names})
    print("precision:", json.dumps(precision))


if __name__ == "__main__":
    main()
