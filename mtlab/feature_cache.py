"""Frozen-encoder vectors, kept in memory and on disk, so later epochs and runs skip the encoder.

In pretrain mode the encoder's weights never change, so a sentence's vector depends only
on the weights, the pooling, the maximum length and the exact text. A `FeatureCache`
holds the vectors encoded so far (the model asks it while its encoder is frozen); given a
folder, it also keeps them on disk between runs. One file per
(weights, pooling, max_length) holds every sentence encoded so far: the file name carries
a fingerprint of the weights and the tokenizer, so finetuned weights, another model, or
another pooling can never pick up stale vectors.

The files live in $MTLAB_CACHE_DIR, or ~/.cache/mtlab/features. Delete the folder to
start over; nothing else refers to it. Nothing in it is needed, only time-saving: a damaged
file, or nan vectors in one, are reported and encoded again, and a folder that cannot be
written to is reported once, the vectors then staying in memory for the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm

Key = tuple[str, ...]  # (sentence,) or (sentence, partner) for a pair encoded together


class FeatureCache:
    """A frozen encoder's vectors by text: in memory, and in `directory` when one is given."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else None
        if self.directory is not None:
            _check_folder(self.directory)
        self.vectors: dict[Key, torch.Tensor] = {}
        self.writable = True  # False once a save failed: the vectors then stay in memory

    def clear(self) -> None:
        """Forget the vectors in memory (they only hold for the weights they came from)."""
        self.vectors.clear()

    def embed(self, encoder, sentences: Sequence[str], pair_with: Sequence[str] | None = None):
        """The vectors of these sentences (or pairs), encoding only the ones not seen yet."""
        keys = [(s,) for s in sentences] if pair_with is None else list(zip(sentences, pair_with))
        missing = list(dict.fromkeys(k for k in keys if k not in self.vectors))
        if missing:
            self._encode(encoder, missing)
        return torch.stack([self.vectors[k] for k in keys])

    def warm(
        self, encoder, sentences: Sequence[str], *, progress: bool = True, chunk: int = 256
    ) -> None:
        """Encode many sentences up front, with a progress bar; read and update the disk file.

        The disk is read only when memory falls short, and written only when something
        new was encoded: a second run with the same encoder encodes nothing. An encoder
        that trains gives other vectors every step: nothing is cached for it.
        """
        if not encoder.frozen:
            return
        keys = self.missing(encoder, sentences)
        bar = tqdm(
            range(0, len(keys), chunk),
            desc="encoding (frozen)",
            unit="chunk",
            disable=not progress or not keys,
        )
        for i in bar:
            self._encode(encoder, keys[i : i + chunk])
        if self.directory is not None and self.writable and keys:
            self._save(self.file_for(encoder))

    def _save(self, path: Path) -> None:
        """Write the file; a folder that cannot be written to only costs the disk copy.

        The cache saves time but holds nothing that cannot be encoded again, so a
        read-only or full disk gets a warning, once, and the run goes on without it.
        """
        try:
            save_vectors(path, {k: v.cpu() for k, v in self.vectors.items()})
        except OSError as e:
            self.writable = False
            print(
                f"warning: cannot write the feature cache {path} ({e.strerror or e}); the "
                "vectors stay in memory for this run only. Set MTLAB_CACHE_DIR to a folder "
                "you can write to, or pass --no-feature-cache"
            )

    def missing(self, encoder, sentences: Sequence[str]) -> list[Key]:
        """The sentences not cached yet, shortest first; reads the disk file in when needed."""
        wanted = {(s,) for s in sentences}
        if self.directory is not None and not wanted <= self.vectors.keys():
            device = next(encoder.parameters()).device
            for key, vector in load_vectors(
                self.file_for(encoder), width=encoder.hidden_size
            ).items():
                self.vectors.setdefault(key, vector.to(device))
        # Sorted by length, ties by text: the same chunks every run (a set has no fixed order).
        return sorted(wanted - self.vectors.keys(), key=lambda k: (len(k[0]), k))

    def file_for(self, encoder) -> Path:
        """Where this encoder's vectors go on disk, named by a fingerprint of its weights."""
        if self.directory is None:
            raise ValueError(
                "this FeatureCache keeps vectors in memory only: give it a folder, "
                "e.g. FeatureCache(mtlab.feature_cache.default_cache_dir())"
            )
        key = fingerprint(encoder.bert, encoder.tokenizer, encoder.pooling, encoder.max_length)
        return cache_file(self.directory, encoder.name, key)

    def _encode(self, encoder, keys: list[Key], chunk: int = 64) -> None:
        # Sorting by length keeps padding small: similar lengths share a chunk.
        keys = sorted(keys, key=lambda k: sum(len(s) for s in k))
        # Cached vectors must be ordinary tensors even when called under inference_mode
        # (evaluation), or training on them later fails.
        with torch.inference_mode(False), torch.no_grad():
            for i in range(0, len(keys), chunk):
                part = keys[i : i + chunk]
                first = [k[0] for k in part]
                second = [k[1] for k in part] if len(part[0]) == 2 else None
                vectors = encoder(**encoder.tokenize(first, second))
                _check_finite(encoder, part, vectors)
                self.vectors.update(zip(part, vectors))


def _check_finite(encoder, keys: list[Key], vectors: torch.Tensor) -> None:
    """A frozen encoder that gives nan gives it every time: stop before it is cached.

    Trained on, nan vectors would make the loss nan, and the message about that would
    blame the learning rate, which never touched these frozen weights.
    """
    bad = (~torch.isfinite(vectors)).any(dim=1)
    if bad.any():
        raise FloatingPointError(
            f"the frozen encoder {encoder.name} gave nan or inf vectors for {int(bad.sum())} "
            f"of {len(keys)} sentences (e.g. {keys[int(bad.nonzero()[0])][0][:60]!r}): its "
            "weights hold nan or inf. Load the encoder again from its folder, or from a "
            "checkpoint saved before it broke"
        )


def _check_folder(directory: Path) -> None:
    """The cache folder, or the nearest part of its path that exists, must be a folder."""
    existing = next(p for p in (directory, *directory.parents) if p.exists())
    if not existing.is_dir():
        where = "is a file" if existing == directory else f"is inside {existing}, a file"
        raise ValueError(
            f"feature cache folder {directory} {where}; expected a folder "
            "(set MTLAB_CACHE_DIR to one, or pass --no-feature-cache)"
        )


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
    digest.update(
        repr((type(tokenizer).__name__, vocab, tokenizer.init_kwargs.get("do_lower_case"))).encode()
    )
    return digest.hexdigest()[:16]


def cache_file(directory: str | Path, name: str, fingerprint: str) -> Path:
    """The file for one encoder: readable model name, then the fingerprint."""
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", Path(name).name or name)[:40]
    return Path(directory) / f"{readable}-{fingerprint}.pt"


def load_vectors(path: Path, width: int | None = None) -> dict[Key, torch.Tensor]:
    """The vectors stored in `path` ({} when there is no file yet).

    A damaged file (say, a run killed while writing it on a full disk) is reported and
    ignored, and vectors that are nan or inf are reported and dropped: their sentences
    are simply encoded again, and the next save writes the file without them.
    """
    if not path.is_file():
        return {}
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
        keys, vectors = stored["keys"], stored["vectors"]
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys but {len(vectors)} vectors")
        if not vectors.is_floating_point() or vectors.dim() != 2:
            raise ValueError(f"vectors of shape {tuple(vectors.shape)} and type {vectors.dtype}")
        if width is not None and vectors.shape[1] != width:
            raise ValueError(f"vectors of width {vectors.shape[1]}, expected width {width}")
        loaded = dict(zip(map(tuple, keys), vectors))
    except Exception as e:  # damaged bytes make torch's unpickler fail in many ways
        print(
            f"warning: ignoring the damaged feature cache {path} ({type(e).__name__}: "
            f"{str(e)[:120]}); its sentences will be encoded again"
        )
        return {}
    finite = torch.isfinite(vectors).all(dim=1)
    if not finite.all():
        print(
            f"warning: the feature cache {path} holds {int((~finite).sum())} of {len(keys)} "
            "vectors that are nan or inf (a damaged file, or one written by a broken run); "
            "they were dropped and their sentences will be encoded again"
        )
        loaded = {tuple(k): v for k, v, ok in zip(keys, vectors, finite.tolist()) if ok}
    return loaded


def save_vectors(path: Path, vectors: dict[Key, torch.Tensor]) -> None:
    """Write all vectors to `path` at once, through a temporary file and a rename.

    The temporary file is per process, so two runs (or torchrun's processes) saving at
    the same moment never write into one file; the last complete one wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    keys = list(vectors)
    try:
        torch.save({"keys": keys, "vectors": torch.stack([vectors[k] for k in keys])}, tmp)
        os.replace(tmp, path)
    finally:  # a write that failed half way leaves no partial file behind
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
