"""MultitaskBert: one shared encoder, three task heads.

    sentence(s) --Encoder--> vector(s) --head--> logits / score --head.loss--> loss

`model(task, batch)` runs one task on a batch from `mtlab.batching`; `model.loss` and
`model.predict` hand the output to that task's head. `set_mode("pretrain")` freezes the
encoder so only the heads train; `set_mode("finetune")` trains everything.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mtlab.encoder import Encoder
from mtlab.heads import ParaphraseHead, SentimentHead, SimilarityHead

TASKS = ("sst", "quora", "sts")


class MultitaskBert(nn.Module):
    """The seed project's model: a shared encoder with a sentiment, paraphrase and similarity head."""

    def __init__(
        self,
        encoder: Encoder,
        *,
        sentiment: str = "mlp",
        paraphrase: str = "concat_diff_prod",
        similarity: str = "cosine",
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.hidden_size
        self.heads = nn.ModuleDict(
            {
                "sst": SentimentHead(hidden, variant=sentiment, dropout=dropout),
                "quora": ParaphraseHead(hidden, variant=paraphrase, dropout=dropout),
                "sts": SimilarityHead(hidden, variant=similarity, dropout=dropout),
            }
        )

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path | None = None,
        *,
        pooling: str = "mean",
        max_length: int = 128,
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
        return self

    def add_head(self, task: str, head: nn.Module) -> None:
        """Register a new task (see notebook 07): the head needs forward, loss and predict."""
        self.heads[task] = head

    def head_config(self) -> dict[str, str]:
        """Which variant each head uses, for results files and checkpoints."""
        return {
            task: getattr(head, "variant", type(head).__name__) for task, head in self.heads.items()
        }

    def forward(self, task: str, batch) -> torch.Tensor:
        """Run one task's head on a batch of sentences or sentence pairs."""
        if task not in self.heads:
            raise KeyError(f"no head for task {task!r}; this model has {list(self.heads)}")
        head = self.heads[task]
        if "sentences" in batch:
            return head(self.encoder.embed(batch["sentences"]))
        first, second = batch["sentences1"], batch["sentences2"]
        if getattr(head, "cross_encodes", False):
            return head(self.encoder.embed(first, pair_with=second))
        # Encode both sides in one pass; each side still gets its own vector.
        vectors = self.encoder.embed(list(first) + list(second))
        return head(vectors[: len(first)], vectors[len(first) :])

    def loss(self, task: str, output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.heads[task].loss(output, labels)

    def predict(self, task: str, output: torch.Tensor) -> torch.Tensor:
        return self.heads[task].predict(output)

    def trainable_parameters(self) -> dict[str, int]:
        """Number of trainable parameters per part: encoder and each head."""
        parts = {"encoder": self.encoder, **self.heads}
        return {
            name: sum(p.numel() for p in part.parameters() if p.requires_grad)
            for name, part in parts.items()
        }
