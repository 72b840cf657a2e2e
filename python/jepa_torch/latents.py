"""Command line: roll a Talker checkpoint's Reasoner out from a prompt and write the chain.

  python3 -m jepa_torch.latents --run DIR (--prompt TEXT | --tokens 1,2,3) --out FILE [--steps N] [--talker]

DIR is a Talker checkpoint folder (or an experiment run holding one in talker/). FILE is a latents
file (docs/checkpoint-format.md 5.6); with --talker it also holds the Talker's logits (`logits`,
(S, V) for Mono) and for a Dual-Talker the decoder inputs it read (`decoder_tokens`, (n,) I32),
decoded greedily from the last prompt token.
"""
import argparse
import json
import os
import sys

import torch

from . import checkpoint, model, safetensors, tokens

LATENTS_FORMAT = "jepa-latents/1"


def main(argv=None):
    """Runs the command; bad input ends it with one error line and exit status 1."""
    args = _parse(argv)
    try:
        run(args)
    except ValueError as err:
        _fail(str(err))
    except (KeyError, TypeError, AttributeError) as err:
        # A config.json without a field the format requires (docs/checkpoint-format.md section 3).
        _fail(f"{args.run}: config.json or the weights lack what the format requires ({type(err).__name__}: {err})")
    except OSError as err:
        _fail(str(err))


def _fail(message):
    sys.stderr.write(f"jepa_torch: error: {message}\n")
    sys.exit(1)


def run(args):
    """Loads, rolls out, decodes and writes as the arguments say."""
    _check_out(args.out)
    folder = _talker_folder(args.run)
    ckpt = checkpoint.load(folder)
    cfg = ckpt.config
    if cfg["kind"] != "talker":
        raise ValueError(f"{folder} holds a '{cfg['kind']}' checkpoint, not a Talker one")
    prompt = _prompt(args, cfg)
    if args.steps < 0:
        raise ValueError(f"--steps must be a positive integer, got {args.steps}")
    steps = args.steps or cfg.get("answer", {}).get("length") or 1
    reasoner = model.Stack(cfg["reasoner"], ckpt.model, "reasoner.")
    with torch.no_grad():
        chain = model.rollout(reasoner, prompt, steps)
        out = [("latents", chain)]
        if args.talker:
            out += _talk(cfg["talker"], ckpt.model, chain, prompt)
    meta = {"format": LATENTS_FORMAT, "checkpoint": folder, "prompt_tokens": json.dumps(prompt, separators=(",", ":"))}
    _write(args.out, safetensors.to_bytes(out, meta))
    print(f"wrote {args.out}: {steps} latents of width {chain.shape[1]}")


def _talk(tcfg, weights, chain, prompt):
    talker = model.Stack(tcfg["stack"], weights, "talker.")
    if tcfg["kind"] == "mono":
        logits = model.mono_logits(talker, chain, tcfg.get("causal", False))
        print("mono-talker tokens:", logits.argmax(dim=-1).tolist())
        return [("logits", logits)]
    memory = model.dual_encode(talker, chain, tcfg["encoderLayers"])
    inputs, logits = model.dual_greedy(talker, memory, [prompt[-1]], chain.shape[0])
    print("dual-talker tokens:", inputs[1:] + [int(logits[-1].argmax())])
    return [("logits", logits), ("decoder_tokens", torch.tensor(inputs, dtype=torch.int32))]


def _parse(argv):
    ap = argparse.ArgumentParser(prog="python3 -m jepa_torch.latents", description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True, help="a Talker checkpoint folder, or a run folder with talker/")
    ap.add_argument("--prompt", help="prompt text (char and tree checkpoints)")
    ap.add_argument("--tokens", help="prompt token ids, comma-separated")
    ap.add_argument("--out", required=True, help="the latents file to write")
    ap.add_argument("--steps", type=int, default=0, help="latents to roll out (default: the checkpoint's answer length)")
    ap.add_argument("--talker", action="store_true", help="also write the Talker's logits")
    return ap.parse_args(argv)


def _prompt(args, cfg):
    if (args.prompt is None) == (args.tokens is None):
        raise ValueError("give exactly one of --prompt TEXT and --tokens IDS")
    vocab = cfg["reasoner"]["vocab"]
    ids = tokens.encode(cfg, args.prompt) if args.prompt is not None else _ids(args.tokens)
    if not ids or any(not 0 <= i < vocab for i in ids):
        raise ValueError(f"the prompt must be token ids in [0, {vocab})")
    return ids


def _ids(text):
    try:
        return [int(p) for p in text.split(",")]
    except ValueError:
        raise ValueError(f"--tokens: {text!r} is not a list of token ids") from None


def _talker_folder(run):
    nested = os.path.join(run, "talker")
    return nested if not os.path.exists(os.path.join(run, "state.json")) and os.path.isdir(nested) else run


def _check_out(path):
    """An existing file is replaced only when it is a latents file (this reader's or jepa's)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"--out {path}: the folder {folder} does not exist")
    if not os.path.exists(path):
        return
    try:
        ours = safetensors.read(path)[1].get("format") == LATENTS_FORMAT
    except (ValueError, OSError, UnicodeDecodeError, KeyError, TypeError):
        ours = False
    if not ours:
        raise ValueError(f"--out {path} exists and is not a latents file: choose another name")


def _write(path, data):
    """Writes whole or not at all: a temporary file beside path, then a rename."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


if __name__ == "__main__":
    main()
