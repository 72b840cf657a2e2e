"""Loading a checkpoint folder and validating it as docs/checkpoint-format.md section 2 says."""
import decimal
import hashlib
import json
import math
import os

from . import safetensors

FORMAT = 2
LISTABLE = ("config.json", "model.safetensors", "optimizer.safetensors", "ema.safetensors")


class Checkpoint:
    """A checkpoint's config, state, weights and EMA tensors (the optimizer moments are not read)."""

    def __init__(self, config, state, model, ema):
        self.config, self.state, self.model, self.ema = config, state, model, ema


def load(folder):
    """Reads and verifies the checkpoint in folder; raises ValueError with one line naming the problem."""
    state_path = os.path.join(folder, "state.json")
    if not os.path.isfile(state_path):
        raise ValueError(f"{folder} is not a checkpoint (no state.json)")
    state = _json(_read(state_path), state_path)
    files = _check_state(state, state_path)
    blobs = {}
    for name, digest in files.items():
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise ValueError(f"{folder} lacks {name}, which its state.json lists")
        blobs[name] = _read(path)
        if hashlib.sha256(blobs[name]).hexdigest() != digest:
            raise ValueError(f"{path} is truncated or modified (checksum mismatch)")
    config = _json(blobs["config.json"], os.path.join(folder, "config.json"))
    if not isinstance(config, dict) or not isinstance(config.get("kind"), str):
        raise ValueError(f"{folder}/config.json does not say what kind of model it holds")
    model, _ = safetensors.read(os.path.join(folder, "model.safetensors"))
    ema = safetensors.read(os.path.join(folder, "ema.safetensors"))[0] if "ema.safetensors" in files else {}
    return Checkpoint(config, state, model, ema)


def _check_state(state, path):
    if not isinstance(state, dict):
        raise ValueError(f"{path} is not a JSON object")
    body = {k: v for k, v in state.items() if k != "checksum"}
    if state.get("format") == FORMAT:
        if hashlib.sha256(js_stringify(body).encode("utf-8")).hexdigest() != state.get("checksum"):
            raise ValueError(f"{path} is truncated or modified (checksum mismatch)")
    elif not (state.get("format") == 1 and "checksum" not in state):
        raise ValueError(f"{path}: unsupported checkpoint format {state.get('format')!r}")
    files = state.get("files")
    if not isinstance(files, dict) or "config.json" not in files or "model.safetensors" not in files:
        raise ValueError(f"{path} lists no config or model file")
    stranger = [name for name in files if name not in LISTABLE]
    if stranger:
        raise ValueError(f"{path} lists {stranger[0]!r}, which is not a checkpoint file")
    return files


def js_stringify(value):
    """JSON text exactly as ECMAScript's JSON.stringify writes value (keys in order, no whitespace)."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + js_stringify(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(js_stringify(v) for v in value) + "]"
    if value is None or value is True or value is False:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number(value)
    return json.dumps(value, ensure_ascii=False)


def js_number(x):
    """A float as ECMAScript's Number.prototype.toString writes it (shortest round-trip digits)."""
    if not math.isfinite(x):
        return "null"
    if x == 0:
        return "0"
    sign, digits, exponent = decimal.Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digits))
    k, n = len(digits), exponent + len(digits)  # n: where the decimal point falls
    head = "-" if x < 0 else ""
    if k <= n <= 21:
        return head + digits + "0" * (n - k)
    if 0 < n <= 21:
        return head + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return head + "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return head + mantissa + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _json(raw, path):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
