"""Frozen-encoder vectors saved on disk, so that a second run skips the encoder entirely.

In pretrain mode the encoder's weights never change, so a sentence's vector depends only
on the weights, the pooling, the maximum length and the exact text. One file per
(weights, pooling, max_length) holds every sentence encoded so far: the file name carries
a fingerprint of the weights and the tokenizer, so finetuned weights, another model, or
another pooling can never pick up stale vectors.

The files live in $MTLAB_CACHE_DIR, or ~/.cache/mtlab/features. Delete the folder to
start over; nothing else refers to it.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch

Key = tuple[str, ...]  # (sentence,) or (sentence, partner) for a pair encoded together


def default_cache_dir() -> Path:
    """$MTLAB_CACHE_DIR if set, else ~/.cache/mtlab/features."""
    return Path(os.environ.get("MTLAB_CACHE_DIR", "~/.cache/mtlab/features")).expanduser()


def fingerprint(bert: torch.nn.Module, tokenizer, pooling: str, max_length: int) -> str:
    """A short hash of everything a frozen vector depends on except the text itself."""
    digest = hashlib.sha256(f"{type(bert).__name__}|{pooling}|{max_length}".encode())
    for name, tensor in sorted(bert.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    vocab = sorted(tokenizer.get_vocab().items())
    digest.update(repr((type(tokenizer).__name__, vocab, tokenizer.init_kwargs.get("do_lower_case")))
                  .encode())  # fmt: skip
    return digest.hexdigest()[:16]


def cache_file(directory: str | Path, name: str, fingerprint: str) -> Path:
    """The file for one encoder: readable model name, then the fingerprint."""
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", Path(name).name or name)[:40]
    return Path(directory) / f"{readable}-{fingerprint}.pt"


def load_vectors(path: Path) -> dict[Key, torch.Tensor]:
    """The vectors stored in `path` ({} when there is no file yet).

    A damaged file (say, a run killed while writing it on a full disk) is reported and
    ignored: the vectors are simply encoded again.
    """
    if not path.is_file():
        return {}
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
        keys, vectors = stored["keys"], stored["vectors"]
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys but {len(vectors)} vectors")
    except Exception as e:  # damaged bytes make torch's unpickler fail in many ways
        print(f"warning: ignoring the damaged feature cache {path} ({type(e).__name__}: "
              f"{str(e)[:120]}); its sentences will be encoded again")  # fmt: skip
        return {}
    return dict(zip(map(tuple, keys), vectors))


def save_vectors(path: Path, vectors: dict[Key, torch.Tensor]) -> None:
    """Write all vectors to `path` at once, through a temporary file and a rename.

    The temporary file is per process, so two runs (or torchrun's processes) saving at
    the same moment never write into one file; the last complete one wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    keys = list(vectors)
    torch.save({"keys": keys, "vectors": torch.stack([vectors[k] for k in keys])}, tmp)
    os.replace(tmp, path)
