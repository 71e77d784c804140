"""Further pretraining: a short masked-language-modelling pass on the tasks' own sentences.

The packaged encoder learned from other text, with a sentence-embedding objective. A few
hundred steps of BERT's own objective on the reviews, questions and captions of the three
tasks adapt it to their words before the multitask training ("Don't Stop Pretraining",
Gururangan et al. 2020; Sun et al. 2019 for BERT). all-MiniLM-L6-v2 ships without BERT's
prediction layer, so a fresh one trains along: a transform (dense, GELU, LayerNorm), then
scores for every word with the input word embeddings as output weights, as BERT does.

The result is an encoder folder that `--encoder` and `MultitaskBert.from_pretrained` load:

    python -m mtlab further-pretrain --steps 300 --out runs/mlm-encoder
    python -m mtlab --encoder runs/mlm-encoder
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from mtlab.data.datasets import all_sentences, load_dataset, resolve_data_dir
from mtlab.encoder import Encoder
from mtlab.runtime import set_seed
from mtlab.tasks import TASKS

MASK_PROBABILITY = 0.15  # BERT's share of tokens to predict
HELD_OUT = 256  # sentences kept aside to measure the loss before and after


class MaskedLanguageModel(nn.Module):
    """The encoder's BERT plus a fresh prediction layer tied to its word embeddings."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        hidden, eps = bert.config.hidden_size, bert.config.layer_norm_eps
        self.bert = bert
        self.transform = nn.Sequential(
            nn.Linear(hidden, hidden), nn.GELU(), nn.LayerNorm(hidden, eps=eps)
        )
        self.bias = nn.Parameter(torch.zeros(bert.config.vocab_size))

    def forward(self, inputs: dict[str, torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the masked tokens (label -100: not masked, not scored)."""
        masked = labels != -100
        hidden = self.bert(**inputs).last_hidden_state[masked]  # only where a word is hidden
        scores = self.transform(hidden) @ self.bert.get_input_embeddings().weight.T + self.bias
        return F.cross_entropy(scores, labels[masked])


def mask_tokens(inputs: dict, tokenizer, generator: torch.Generator) -> tuple[dict, torch.Tensor]:
    """BERT's recipe: 15% of the real tokens are to be predicted; 80% of those become [MASK],
    10% a random word, 10% stay as they are (so the model cannot trust unmasked words blindly)."""
    ids = inputs["input_ids"]
    special = torch.isin(ids, torch.tensor(tokenizer.all_special_ids, device=ids.device))
    candidates = inputs["attention_mask"].bool() & ~special
    draw = torch.rand(ids.shape, generator=generator).to(ids.device)
    chosen = candidates & (draw < MASK_PROBABILITY)
    if not chosen.any():  # a tiny batch may draw none: take its first real token
        chosen[tuple(candidates.nonzero()[0])] = True
    how = torch.rand(ids.shape, generator=generator).to(ids.device)
    words = torch.randint(len(tokenizer), ids.shape, generator=generator).to(ids.device)
    masked = torch.where(chosen & (how < 0.8), tokenizer.mask_token_id, ids)
    masked = torch.where(chosen & (how >= 0.8) & (how < 0.9), words, masked)
    return {**inputs, "input_ids": masked}, torch.where(chosen, ids, -100)


def task_sentences(data_dir: str | Path | None = None, tasks: Sequence[str] = TASKS) -> list[str]:
    """Every training sentence of the tasks, each once (questions and pairs split up)."""
    source = resolve_data_dir(data_dir)
    sets = {task: load_dataset(task, "train", source.path) for task in tasks}
    return list(dict.fromkeys(all_sentences(sets)))


def further_pretrain(
    encoder: Encoder,
    sentences: Sequence[str],
    *,
    steps: int = 300,
    minutes: float | None = None,
    batch_size: int = 32,
    lr: float = 5e-5,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Train `encoder` in place with masked-language modelling on `sentences`; a summary.

    Stops after `steps` steps or `minutes` minutes, whichever comes first; Ctrl-C stops it
    early and keeps what it learned. The summary holds the steps done, the seconds, and the
    loss on HELD_OUT sentences (the same masks) before and after.
    """
    set_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    was_frozen = encoder.frozen
    encoder.set_mode("finetune")
    model = MaskedLanguageModel(encoder.bert).to(next(encoder.parameters()).device)
    order = torch.randperm(len(sentences), generator=generator).tolist()
    held_out = [sentences[i] for i in order[:HELD_OUT]]
    train_rows = [sentences[i] for i in order[HELD_OUT:]] or held_out  # tiny data: reuse them
    probe = mask_tokens(encoder.tokenize(held_out), encoder.tokenizer, generator)
    before = probe_loss(model, probe)
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=lr, weight_decay=0.01, fused=device.type in ("cpu", "cuda")
    )
    budget = minutes * 60 if minutes else float("inf")
    stream = random_batches(train_rows, batch_size, generator)
    started, step, losses = time.perf_counter(), 0, []
    bar = tqdm(total=steps, desc="masked LM", disable=not progress, unit="step")
    model.train()
    try:
        while step < steps and time.perf_counter() - started < budget:
            inputs = encoder.tokenize(next(stream))
            loss = model(*mask_tokens(inputs, encoder.tokenizer, generator))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            losses.append(loss.item())
            bar.set_postfix(loss=f"{loss.item():.3f}")
            bar.update()
    except KeyboardInterrupt:
        print(f"\ninterrupted at step {step}: keeping what it learned", file=sys.stderr)
    bar.close()
    after = probe_loss(model, probe)
    encoder.set_mode("pretrain" if was_frozen else "finetune")
    return {
        "steps": step,
        "seconds": round(time.perf_counter() - started, 1),
        "sentences": len(sentences),
        "held_out_loss": {"before": before, "after": after},
        "losses": losses,
    }


def random_batches(rows: Sequence[str], batch_size: int, generator) -> Iterator[list[str]]:
    """Batches of sentences in a random order, a new order for every pass."""
    while True:
        order = torch.randperm(len(rows), generator=generator).tolist()
        for i in range(0, len(order), batch_size):
            yield [rows[j] for j in order[i : i + batch_size]]


@torch.no_grad()
def probe_loss(model: MaskedLanguageModel, probe: tuple[dict, torch.Tensor]) -> float:
    """The masked-LM loss on a fixed masked batch, dropout off."""
    was_training = model.training
    model.eval()
    loss = model(*probe).item()
    model.train(was_training)
    return loss


def save_encoder(encoder: Encoder, folder: str | Path, summary: dict | None = None) -> Path:
    """The encoder as a Hugging Face folder (weights, config, tokenizer), plus the summary."""
    folder = Path(folder)
    encoder.bert.save_pretrained(folder)
    encoder.tokenizer.save_pretrained(folder)
    if summary is not None:
        (folder / "further_pretrain.json").write_text(json.dumps(summary, indent=2))
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mtlab further-pretrain",
        description="Masked-language modelling on the tasks' training sentences; saves an "
        "encoder folder for --encoder.",
    )
    parser.add_argument("--data-dir", help="the course's CSV files (default: as python -m mtlab)")
    parser.add_argument("--encoder", help="the encoder to start from (default: all-MiniLM-L6-v2)")
    parser.add_argument("--out", default="runs/mlm-encoder", help="the folder to write")
    parser.add_argument("--steps", type=int, default=300, help="at most this many steps")
    parser.add_argument("--minutes", type=float, help="... and at most this many minutes")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sentences = task_sentences(args.data_dir)
    encoder = Encoder.from_pretrained(args.encoder)
    print(
        f"{len(sentences):,} sentences from {resolve_data_dir(args.data_dir).path}; "
        f"encoder {encoder.name}"
    )
    summary = further_pretrain(
        encoder,
        sentences,
        steps=args.steps,
        minutes=args.minutes,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
    )
    folder = save_encoder(encoder, args.out, {**summary, "encoder": encoder.name})
    loss = summary["held_out_loss"]
    print(
        f"{summary['steps']} steps in {summary['seconds']:.0f} s; masked-LM loss on "
        f"{HELD_OUT} held-out sentences {loss['before']:.3f} -> {loss['after']:.3f}"
    )
    print(f"wrote {folder}; use it with: python -m mtlab --encoder {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
