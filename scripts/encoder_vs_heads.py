"""How much of the gap to the seed is the encoder's own pretraining? The same heads on three inputs.

    MTLAB_DATA_DIR=../shared/data python scripts/encoder_vs_heads.py --out results/encoder-vs-heads

all-MiniLM-L6-v2 was trained on over a billion sentence pairs, among them Quora duplicate
questions and SNLI/MultiNLI (its model card lists them), so its frozen vectors already know
much of what Quora and STS ask. This script trains mtlab's default heads, exactly as the
pretrain phase does (10 epochs, lr 1e-3, dev each epoch, best epoch kept), on the frozen
vectors of (a) the packaged MiniLM and (b) a randomly initialised encoder of the same shape
and tokenizer; and it fits (c) a bag-of-words baseline with scikit-learn: TF-IDF, then logistic
regression (SST on the sentence; Quora on [|a - b|, a * b] of the two questions' vectors) or
ridge regression (STS, same pair features). It writes results.json (dev scores) to --out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from scipy.sparse import hstack
from scipy.stats import pearsonr
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from transformers import AutoConfig, AutoModel

from mtlab import TASKS, Encoder, MultitaskBert, TrainConfig, evaluate, load_dataset, train
from mtlab.encoder import default_model_path
from mtlab.experiment import SEED_RESULTS
from mtlab.feature_cache import FeatureCache, default_cache_dir
from mtlab.runtime import set_seed


def frozen_heads(encoder: Encoder, train_sets, dev_sets) -> dict[str, float]:
    """Best-epoch dev scores of the default heads on this encoder's frozen vectors."""
    set_seed(0)
    model = MultitaskBert(encoder, features=FeatureCache(default_cache_dir())).set_mode("pretrain")
    config = TrainConfig(epochs=10, lr=1e-3, eval_every=1.0, keep_best=True)
    train(model, train_sets, config, dev_sets=dev_sets, progress=True)
    return evaluate(model, dev_sets)


def random_encoder() -> Encoder:
    """MiniLM's shape and tokenizer, with the weights of a fresh initialisation (seed 0)."""
    packaged = Encoder.from_pretrained()
    torch.manual_seed(0)
    bert = AutoModel.from_config(AutoConfig.from_pretrained(default_model_path()))
    return Encoder(bert, packaged.tokenizer, name="random-MiniLM-L6")


def bag_of_words(train_sets, dev_sets) -> dict[str, float]:
    """TF-IDF features; logistic regression for classes, ridge for scores."""
    scores = {}
    for task in TASKS:
        train_rows, dev_rows = list(train_sets[task]), list(dev_sets[task])
        keys = ["sentence"] if "sentence" in train_rows[0] else ["sentence1", "sentence2"]
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        vectorizer.fit([row[k] for row in train_rows for k in keys])

        def features(rows, keys=keys, vectorizer=vectorizer):
            parts = [vectorizer.transform([row[k] for row in rows]) for k in keys]
            if len(parts) == 1:
                return parts[0]
            a, b = parts
            return hstack([abs(a - b), a.multiply(b)]).tocsr()

        x, x_dev = features(train_rows), features(dev_rows)
        y, y_dev = (
            np.array([r["label"] for r in train_rows]),
            np.array([r["label"] for r in dev_rows]),
        )
        if task == "sts":
            predicted = Ridge(alpha=1.0).fit(x, y).predict(x_dev)
            scores[task] = float(pearsonr(predicted, y_dev).statistic)
        else:
            model = LogisticRegression(max_iter=2000, C=4.0).fit(x, y)
            scores[task] = float((model.predict(x_dev) == y_dev).mean())
    return scores


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("results/encoder-vs-heads"))
    args = parser.parse_args(argv)
    train_sets = {t: load_dataset(t, "train") for t in TASKS}
    dev_sets = {t: load_dataset(t, "dev") for t in TASKS}
    results, seconds = {}, {}
    for name, run in [
        ("MiniLM, pretrained (frozen)", lambda: frozen_heads(Encoder.from_pretrained(), train_sets, dev_sets)),
        ("same shape, random weights (frozen)", lambda: frozen_heads(random_encoder(), train_sets, dev_sets)),
        ("TF-IDF + logistic / ridge regression", lambda: bag_of_words(train_sets, dev_sets)),
    ]:  # fmt: skip
        started = time.perf_counter()
        results[name] = run()
        seconds[name] = round(time.perf_counter() - started)
        print(name, {t: round(v, 3) for t, v in results[name].items()}, f"{seconds[name]} s")
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"dev": results, "seconds": seconds, "seed_project": SEED_RESULTS}
    (args.out / "results.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
