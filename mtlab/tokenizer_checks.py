"""Does a tokenizer belong to its model? Cheap checks, run on every encoder load.

Why: a token id is a row number in the model's embedding matrix, and nothing at run time
checks that the row is the right one. A vocab.txt that lost its `[UNK]` line still loads:
transformers re-adds `[UNK]` at the end, the vocabulary keeps its size, and every token
after the gap gets its neighbour's id, so its neighbour's embedding. The model runs and
every number it gives is quietly wrong. So before an encoder is used, each special token
(unk, cls, sep, pad, mask: whichever the tokenizer defines) must sit at the same id in the
tokenizer, the vocabulary file and the model's config, and no id may point past the last
embedding row.

Byte-level BPE tokenizers (GPT-2 or RoBERTa style: vocab.json and merges.txt) may have
no unknown token at all; only the tokens a tokenizer defines are checked, and the line by
line check is for WordPiece's vocab.txt, where a token's id is its line number.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = ("unk", "cls", "sep", "pad", "mask")
FIX = (
    "Restore the file from the model's original download, or save the tokenizer that "
    "belongs to these weights next to them (tokenizer.save_pretrained(folder))."
)


def tokenizer_problem(model, tokenizer, folder: Path | None) -> str | None:
    """What is wrong between `tokenizer` and `model` in one line, or None when they fit.

    `folder` is where both were read from (None for a hub name); it names them in the
    message and tells whether the ids came from tokenizer.json.
    """
    where = str(folder) if folder is not None else getattr(tokenizer, "name_or_path", "")
    specials = special_token_ids(tokenizer)
    rows = model.get_input_embeddings().num_embeddings
    path = _wordpiece_vocab_file(tokenizer, folder)
    lines = path.read_text(encoding="utf-8").splitlines() if path else None
    ids_from = "tokenizer.json" if folder and (folder / "tokenizer.json").is_file() else None
    return (
        (path and vocab_file_problem(path, lines, specials, ids_from))
        or _size_problem(model, tokenizer, where)
        or (path and len(lines) > rows and _too_many_lines(path, len(lines), rows))
        or _id_range_problem(tokenizer, specials, rows, where)
        or _config_problem(model, specials, where)
    )


def special_token_ids(tokenizer) -> dict[str, tuple[str, int]]:
    """The special tokens the tokenizer defines, by kind: {'unk': ('[UNK]', 100), ...}."""
    found = {}
    for kind in SPECIAL_TOKENS:
        token = getattr(tokenizer, f"{kind}_token", None)
        token_id = getattr(tokenizer, f"{kind}_token_id", None)
        if token is not None and token_id is not None:
            found[kind] = (str(token), int(token_id))
    return found


def vocab_file_problem(
    path: Path, lines: list[str], specials: dict[str, tuple[str, int]], ids_from: str | None
) -> str | None:
    """A WordPiece vocab.txt (its `lines`: line n, from 0, is token id n) against the tokenizer.

    No token may appear twice (one of its ids could never be produced), and each special
    token must be in the file exactly at the tokenizer's id. `ids_from` names the file the
    tokenizer took its ids from when that is not `path` (tokenizer.json).
    """
    present = set(lines)
    if len(present) != len(lines):
        return _duplicate_problem(path, lines)
    tokenizer = f"the tokenizer (read from {ids_from})" if ids_from else "the tokenizer"
    for kind, (token, token_id) in specials.items():
        if token not in present:  # a missing line also moves the tokens after it: say this
            return (
                f"{path} has no line {token!r} (the {kind} token), but {tokenizer} gives it "
                f"id {token_id}: with a line missing, every token after the gap gets its "
                f"neighbour's id and so its neighbour's embedding. {FIX}"
            )
    for kind, (token, token_id) in specials.items():
        line = lines.index(token)
        if line != token_id:
            return (
                f"{path} line {line + 1} holds {token!r} (the {kind} token), which makes its "
                f"id {line}, but {tokenizer} gives it id {token_id}: the tokens between the "
                f"two have moved, each onto another token's embedding. {FIX}"
            )
    return None


def _too_many_lines(path: Path, count: int, rows: int) -> str:
    return (
        f"{path} holds {count} tokens but the model's embedding matrix has {rows} rows: "
        f"ids {rows} and up point past its end. {FIX}"
    )


def _duplicate_problem(path: Path, lines: list[str]) -> str:
    """Names the first token that appears twice in a vocabulary file, and both its lines."""
    first: dict[str, int] = {}
    for n, token in enumerate(lines, start=1):
        if token in first:
            break
        first[token] = n
    return (
        f"{path} lists {token!r} twice, on lines {first[token]} and {n}: the tokenizer "
        "keeps only one of them, so the ids and the embedding rows no longer match one "
        f"for one. {FIX}"
    )


def _wordpiece_vocab_file(tokenizer, folder: Path | None) -> Path | None:
    """The vocab.txt the tokenizer came with (one token per line), if it has one."""
    path = getattr(tokenizer, "vocab_file", None)
    candidates = [Path(path)] if path else []
    if folder is not None:
        candidates.append(folder / "vocab.txt")
    return next((p for p in candidates if p.name == "vocab.txt" and p.is_file()), None)


def _size_problem(model, tokenizer, where: str) -> str | None:
    if len(tokenizer) == model.config.vocab_size:
        return None
    return (
        f"The tokenizer of {where} has {len(tokenizer)} tokens but the model expects "
        f"{model.config.vocab_size}: they do not belong together."
    )


def _id_range_problem(
    tokenizer, specials: dict[str, tuple[str, int]], rows: int, where: str
) -> str | None:
    """Every id the tokenizer can produce must be a row of the embedding matrix."""
    added = getattr(tokenizer, "added_tokens_decoder", None) or {}
    highest = max([len(tokenizer) - 1, *added, *(i for _, i in specials.values())])
    if highest < rows:
        return None
    return (
        f"The tokenizer of {where} gives ids up to {highest} but the model's embedding "
        f"matrix has {rows} rows (ids 0 to {rows - 1}): they do not belong together. {FIX}"
    )


def _config_problem(model, specials: dict[str, tuple[str, int]], where: str) -> str | None:
    """The padding id the model was built with must be the tokenizer's padding token's."""
    config_pad = getattr(model.config, "pad_token_id", None)
    if config_pad is None or "pad" not in specials or specials["pad"][1] == config_pad:
        return None
    token, token_id = specials["pad"]
    return (
        f"{where}: config.json has pad_token_id {config_pad} but the tokenizer pads with "
        f"{token!r}, id {token_id}: padding would be read as another token. Use the "
        "tokenizer these weights were trained with, or, if it is that one, set pad_token_id "
        f"in config.json to {token_id}."
    )
