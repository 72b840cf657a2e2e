"""Prompt text to token ids (docs/checkpoint-format.md section 4): characters and the tree task."""

TREE_VOCAB = ["<pad>", "<end>"] + [chr(65 + i) for i in range(26)] + [",", "[ROOT]", "[TARGET]", "[ROUTE]"]


def encode(config, text):
    """Token ids of text under the checkpoint's tokenizer; ValueError when it cannot be read here."""
    tokenizer = config.get("tokenizer")
    if tokenizer is not None and tokenizer.get("kind") == "char":
        ids = {c: i + 2 for i, c in enumerate(tokenizer["chars"])}
        missing = [c for c in text if c not in ids]
        if missing:
            raise ValueError(f"character {missing[0]!r} is not in the checkpoint's vocabulary")
        return [ids[c] for c in text]
    if tokenizer is None and (config.get("tree") or config.get("experiment") == "tree"):
        return encode_tree((config.get("tree") or {}).get("vocab", TREE_VOCAB), text)
    kind = "none (token ids)" if tokenizer is None else tokenizer.get("kind")
    raise ValueError(f"this reader encodes char and tree prompts only; the tokenizer here is {kind}: pass --tokens")


def encode_tree(vocab, text):
    """Tree text to ids: a [..] or <..> marker is one token, any other character is one token."""
    ids, table, i = [], {t: n for n, t in enumerate(vocab)}, 0
    while i < len(text):
        close = {"[": "]", "<": ">"}.get(text[i])
        end = text.find(close, i) if close else -1
        piece = text[i:end + 1] if end > i else text[i]
        if piece not in table:
            raise ValueError(f"unknown tree token {piece!r} at character {i}")
        ids.append(table[piece])
        i += len(piece)
    return ids
