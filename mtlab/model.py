"""MultitaskBert: one shared encoder, one head per task.

    sentence(s) --Encoder--> vector(s) --head--> logits / score --head.loss--> loss

`model(task, batch)` runs one task on a batch from `mtlab.batching`; with `labels=` it
returns the training loss instead (as Hugging Face models do). `model.loss` and
`model.predict` hand an output to that task's head. `set_mode("pretrain")` freezes the
encoder so only the heads train; `set_mode("finetune")` trains everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from mtlab.encoder import Encoder
from mtlab.feature_cache import FeatureCache
from mtlab.heads.base import Head
from mtlab.heads.kinds import default_head
from mtlab.tasks import TASKS, UnknownTaskError, get_task


class MultitaskBert(nn.Module):
    """The seed project's model: a shared encoder with a sentiment, paraphrase and similarity head.

    While the encoder is frozen, sentence vectors come from `feature_cache` (each sentence
    is encoded once); set it to None to run the encoder every time, or to
    `FeatureCache(folder)` to keep the vectors on disk between runs.
    """

    def __init__(
        self,
        encoder: Encoder,
        *,
        sentiment: str = "mlp",
        paraphrase: str = "concat_diff_prod",
        similarity: str = "cosine",
        dropout: float = 0.1,
        features: FeatureCache | None = None,
        similarity_loss: str = "mse",
        mnrl_weight: float = 0.0,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        # Models built on one frozen encoder may share one cache (`features=`).
        self.feature_cache: FeatureCache | None = features or FeatureCache()
        hidden = encoder.hidden_size
        # One head per task of the table, of the kind its entry names, with these variants.
        variants = {"sentiment": sentiment, "paraphrase": paraphrase, "similarity": similarity}
        options = {
            "paraphrase": {"mnrl_weight": mnrl_weight},
            "similarity": {"training_loss": similarity_loss},
        }
        kinds = {task: get_task(task).head for task in TASKS}
        self.heads = nn.ModuleDict(
            {
                task: default_head(
                    task, hidden, variant=variants[kind], dropout=dropout, **options.get(kind, {})
                )
                for task, kind in kinds.items()
            }
        )

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path | None = None,
        *,
        pooling: str = "mean",
        max_length: int | None = None,
        **head_options,
    ) -> MultitaskBert:
        """Build the model around an encoder loaded by `Encoder.from_pretrained`."""
        encoder = Encoder.from_pretrained(name_or_path, pooling=pooling, max_length=max_length)
        return cls(encoder, **head_options)

    @property
    def mode(self) -> str:
        """'pretrain' while the encoder is frozen, else 'finetune'."""
        return "pretrain" if self.encoder.frozen else "finetune"

    def set_mode(self, mode: str) -> MultitaskBert:
        """pretrain: encoder frozen, heads train. finetune: everything trains."""
        self.encoder.set_mode(mode)
        if mode == "finetune":
            self.forget_features()  # the weights are about to change: old vectors go stale
        return self

    def forget_features(self) -> None:
        """Drop cached vectors (after the encoder's weights changed)."""
        if self.feature_cache is not None:
            self.feature_cache.clear()

    def add_head(self, task: str, head: Head) -> None:
        """Give a task its head (see notebook 07); a head of the same task is replaced."""
        if not isinstance(head, Head):
            raise TypeError(
                f"the head for {task!r} is a {type(head).__name__}, not an mtlab Head: subclass "
                "mtlab.Head (or SentimentHead, ParaphraseHead, SimilarityHead) so the model knows "
                "its loss, its predictions and how many sentence vectors it takes"
            )
        self.heads[task] = head

    def head_config(self) -> dict[str, str]:
        """Which variant each head uses, for results files."""
        return {t: getattr(h, "variant", type(h).__name__) for t, h in self.heads.items()}

    def head(self, task: str) -> Head:
        if task not in self.heads:
            raise UnknownTaskError(
                f"no head for task {task!r}; this model has {list(self.heads)}"
                ". Add one with model.add_head(task, head)"
            )
        return self.heads[task]

    def embed(self, sentences: Sequence[str], pair_with: Sequence[str] | None = None):
        """One vector per sentence (or pair): from the feature cache while frozen."""
        if self.encoder.frozen and self.feature_cache is not None:
            return self.feature_cache.embed(self.encoder, sentences, pair_with)
        return self.encoder.embed(sentences, pair_with)

    def vectors(self, task: str, batch) -> tuple[torch.Tensor, ...]:
        """The sentence vectors a task's head takes: (u,), (u, v), or (pair,) if it cross-encodes."""
        head = self.head(task)
        if "sentences" in batch:
            return (self.embed(batch["sentences"]),)
        first, second = batch["sentences1"], batch["sentences2"]
        if head.cross_encodes:
            return (self.embed(first, pair_with=second),)
        # Encode both sides in one pass; each side still gets its own vector.
        both = self.embed(list(first) + list(second))
        return both[: len(first)], both[len(first) :]

    def example_lengths(self, task: str, dataset) -> list[int]:
        """Tokens in the row each example of `dataset` adds to a batch of `task`: its sentence,
        its pair as one sequence (a cross-encoding head), or the longer of its two sentences
        (both sides share one padded pass). Length buckets sort by these (less padding)."""
        examples = [dataset[i] for i in range(len(dataset))]
        if not examples or "sentence" in examples[0]:
            return self.encoder.token_lengths([e["sentence"] for e in examples])
        first, second = [e["sentence1"] for e in examples], [e["sentence2"] for e in examples]
        if self.head(task).cross_encodes:
            return self.encoder.token_lengths(first, pair_with=second)
        pairs = zip(self.encoder.token_lengths(first), self.encoder.token_lengths(second))
        return [max(a, b) for a, b in pairs]

    def forward(self, task: str, batch, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The head's output for a batch; with `labels`, the training loss instead."""
        vectors = self.vectors(task, batch)
        if labels is None:
            return self.heads[task](*vectors)
        return self.objective(task, vectors, labels)

    def objective(
        self, task: str, vectors: tuple[torch.Tensor, ...], labels: torch.Tensor
    ) -> torch.Tensor:
        """The task's training loss from its sentence vectors (SMART needs the vectors too)."""
        # Heads are small: their loss runs in float32 even when the encoder ran in bf16.
        with torch.autocast(vectors[0].device.type, enabled=False):
            return self.heads[task].objective(tuple(v.float() for v in vectors), labels)

    def loss(self, task: str, output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.head(task).loss(output, labels)

    def predict(self, task: str, output: torch.Tensor) -> torch.Tensor:
        return self.head(task).predict(output)

    def trainable_parameters(self) -> dict[str, int]:
        """Number of trainable parameters per part: encoder and each head."""
        parts = {"encoder": self.encoder, **self.heads}
        return {
            name: sum(p.numel() for p in part.parameters() if p.requires_grad)
            for name, part in parts.items()
        }
