"""The forward passes of docs/checkpoint-format.md section 6: Reasoner rollout, Mono- and Dual-Talker.

Weights are a dict of tensors by checkpoint name; a prefix such as "reasoner." or "talker." picks
one model out of a Talker checkpoint. Shapes: sequences are (T, width), one prompt at a time.
"""
import math

import torch


class Stack:
    """A Transformer stack's sizes (config `model`, `reasoner` or `talker.stack`) and its weights."""

    def __init__(self, config, weights, prefix, dtype=torch.float32):
        self.c = config
        self.w = {k[len(prefix):]: v.to(dtype) for k, v in weights.items() if k.startswith(prefix)}
        self.heads, self.dim = config["heads"], config["attnDim"]
        self.dh = self.dim // self.heads
        self.eps = config["normEps"]
        self.scale = config.get("attnScale", 1) / math.sqrt(self.dh)
        self.qk_norm = config.get("qkNorm", "paper")
        self.dtype = dtype

    def __getitem__(self, name):
        return self.w[name]


def rms(x, gain, eps):
    """x / sqrt(mean(x^2) + eps) * gain over the last dimension (gain None: no gain)."""
    y = x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps)
    return y if gain is None else y * gain


def l2(x):
    """x / max(||x||, 1e-12) over the last dimension."""
    return x / x.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def gelu(u):
    """GELU, tanh approximation."""
    return 0.5 * u * (1 + torch.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3)))


def heads(x, s):
    """(T, A) -> (H, T, dh)."""
    return x.reshape(x.shape[0], s.heads, s.dh).transpose(0, 1)


def qk_norm(s, layer, q, k):
    """QK-Norm of (H, T, dh) queries and keys, as the stack's variant says."""
    if s.qk_norm == "none":
        return q, k
    q, k = rms(q, None, s.eps), rms(k, None, s.eps)
    if s.qk_norm == "temp":
        g = s.c.get("qkTemp", 10) * torch.exp(s[layer + ".qk_temp"]) / math.sqrt(s.dh)
        q = q * g.view(-1, 1, 1)
    return q, k


def rope(x, base):
    """Rotate-half RoPE of (H, T, dh) at positions 0..T-1; angles in float64, cos/sin rounded to float32."""
    T, dh = x.shape[1], x.shape[2]
    i = torch.arange(dh // 2, dtype=torch.float64)
    angle = torch.arange(T, dtype=torch.float64)[:, None] * base ** (-2 * i / dh)[None, :]
    cos = angle.cos().float().to(x.dtype).repeat(1, 2)
    sin = angle.sin().float().to(x.dtype).repeat(1, 2)
    half = dh // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


def attend(s, q, k, v, causal):
    """softmax(scale q k^T) v per head; q (H, Tq, dh), k and v (H, Tk, dh); returns (Tq, A)."""
    scores = s.scale * (q @ k.transpose(1, 2))
    if causal:
        Tq, Tk = q.shape[1], k.shape[1]
        hidden = torch.arange(Tk)[None, :] > torch.arange(Tq)[:, None] + (Tk - Tq)
        scores = scores.masked_fill(hidden, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    return out.transpose(0, 1).reshape(q.shape[1], s.dim)


def self_attention(s, p, h, causal):
    """The self-attention of block p over normed input h (T, D), with QK-Norm and RoPE."""
    q, k, v = (heads(t, s) for t in (h @ s[p + ".attn.qkv.weight"].T).split(s.dim, dim=-1))
    q, k = qk_norm(s, p + ".attn", q, k)
    q, k = rope(q, s.c["ropeBase"]), rope(k, s.c["ropeBase"])
    return attend(s, q, k, v, causal) @ s[p + ".attn.proj.weight"].T


def mlp(s, p, h):
    """gelu(h W_fc^T) W_proj^T of block p."""
    return gelu(h @ s[p + ".mlp.fc.weight"].T) @ s[p + ".mlp.proj.weight"].T


def block(s, p, x, causal):
    """One pre-norm block: x + attn(norm1(x)), then + mlp(norm2(x))."""
    x = x + self_attention(s, p, rms(x, s[p + ".norm1.weight"], s.eps), causal)
    return x + mlp(s, p, rms(x, s[p + ".norm2.weight"], s.eps))


def reasoner_hidden(s, x):
    """Final hidden states (T, D) of the causal stack for input vectors x (T, D)."""
    for i in range(s.c["layers"]):
        x = block(s, f"blocks.{i}", x, True)
    return rms(x, s["norm_f.weight"], s.eps)


def rollout(s, prompt, steps):
    """The chain (steps, D): the last position's normalised output, fed back as the next input."""
    x = s["wte.weight"][torch.tensor(prompt, dtype=torch.long)]
    chain = []
    for _ in range(steps):
        z = l2(reasoner_hidden(s, x)[-1])
        chain.append(z)
        x = torch.cat((x, z[None, :]), dim=0)
    return torch.stack(chain)


def talker_input(talker, chain):
    """The chain projected to the Talker's width when the widths differ."""
    return chain @ talker["in_proj.weight"].T if "in_proj.weight" in talker.w else chain.to(talker.dtype)


def mono_logits(talker, chain, causal=False):
    """Mono-Talker logits (S, V): blocks over the chain (positions 0..S-1), norm_f, lm_head."""
    x = talker_input(talker, chain)
    for i in range(talker.c["layers"]):
        x = block(talker, f"blocks.{i}", x, causal)
    return rms(x, talker["norm_f.weight"], talker.eps) @ talker["lm_head.weight"].T


def dual_encode(talker, chain, encoder_layers):
    """The Dual-Talker's memory (S, D): bidirectional encoder blocks, then encoder_norm."""
    x = talker_input(talker, chain)
    for j in range(encoder_layers):
        x = block(talker, f"encoder.{j}", x, False)
    return rms(x, talker["encoder_norm.weight"], talker.eps)


def cross_attention(s, p, c, memory):
    """Cross-attention of block p: queries from c (n, D), keys/values from memory (S, D); QK-Norm, no RoPE."""
    q = heads(c @ s[p + ".cross.q.weight"].T, s)
    k, v = (heads(t, s) for t in (memory @ s[p + ".cross.kv.weight"].T).split(s.dim, dim=-1))
    q, k = qk_norm(s, p + ".cross", q, k)
    return attend(s, q, k, v, False) @ s[p + ".cross.proj.weight"].T


def dual_logits(talker, memory, tokens):
    """Next-token logits (n, V) of the decoder for token ids (n) given the memory."""
    x = talker["wte.weight"][torch.tensor(tokens, dtype=torch.long)]
    for i in range(talker.c["layers"]):
        p = f"decoder.{i}"
        x = x + self_attention(talker, p, rms(x, talker[p + ".norm1.weight"], talker.eps), True)
        x = x + cross_attention(talker, p, rms(x, talker[p + ".norm_x.weight"], talker.eps), memory)
        x = x + mlp(talker, p, rms(x, talker[p + ".norm2.weight"], talker.eps))
    return rms(x, talker["norm_f.weight"], talker.eps) @ talker["wte.weight"].T


def dual_greedy(talker, memory, prefix, count):
    """Greedy decoding of count tokens after prefix; returns (decoder inputs, their logits (n, V))."""
    tokens = list(prefix)
    for _ in range(count):
        tokens.append(int(dual_logits(talker, memory, tokens)[-1].argmax()))
    inputs = tokens[:-1]
    return inputs, dual_logits(talker, memory, inputs)
