"""Frozen vectors on disk: read back exactly, never reused for other weights or settings."""

import errno

import pytest
import torch

from mtlab import FeatureCache, MultitaskBert, feature_cache
from mtlab.data.datasets import SAMPLE_DIR, load_dataset
from mtlab.feature_cache import load_vectors
from mtlab.training import TrainConfig, train
from tests.conftest import make_tiny_encoder

SENTENCES = ["a fine film", "dull and long", "a dog runs", "a fine film"]


class Frozen:
    """A frozen tiny encoder with a disk cache: the pair the tests below exercise."""

    def __init__(self, tokenizer, cache_dir, **settings) -> None:
        self.encoder = make_tiny_encoder(tokenizer)
        for name, value in settings.items():
            setattr(self.encoder, name, value)
        self.encoder.set_mode("pretrain")
        self.cache = FeatureCache(cache_dir)

    def warm(self, sentences) -> None:
        self.cache.warm(self.encoder, sentences, progress=False)

    def file(self):
        return self.cache.file_for(self.encoder)

    def embed(self, sentences):
        return self.cache.embed(self.encoder, sentences)


def frozen(tokenizer, cache_dir, **settings) -> Frozen:
    return Frozen(tokenizer, cache_dir, **settings)


def count_forward_calls(frozen_encoder: Frozen) -> list:
    calls = []
    frozen_encoder.encoder.bert.register_forward_hook(lambda *_: calls.append(1))
    return calls


def test_second_encoder_reads_every_vector_from_disk(tokenizer, tmp_path):
    first = frozen(tokenizer, tmp_path)
    first.warm(SENTENCES)
    path = first.file()
    assert path.is_file() and len(load_vectors(path)) == 3  # unique sentences

    second = frozen(tokenizer, tmp_path)
    calls = count_forward_calls(second)
    second.warm(SENTENCES)
    vectors = second.embed(SENTENCES)
    assert calls == []  # nothing encoded
    assert torch.equal(vectors, first.embed(SENTENCES))


def test_new_sentences_are_encoded_and_added(tokenizer, tmp_path):
    frozen(tokenizer, tmp_path).warm(SENTENCES[:2])
    encoder = frozen(tokenizer, tmp_path)
    calls = count_forward_calls(encoder)
    encoder.warm(SENTENCES)
    assert len(calls) == 1  # one chunk, holding only the new sentence
    assert len(load_vectors(encoder.file())) == 3


def test_other_weights_or_settings_get_another_file(tokenizer, tmp_path):
    base = frozen(tokenizer, tmp_path).file()
    assert frozen(tokenizer, tmp_path, pooling="cls").file() != base
    assert frozen(tokenizer, tmp_path, max_length=16).file() != base
    changed = frozen(tokenizer, tmp_path)
    with torch.no_grad():
        changed.encoder.bert.encoder.layer[0].output.dense.bias[0] += 1e-3  # finetuned, say
    assert changed.file() != base
    assert frozen(tokenizer, tmp_path).file() == base  # same weights: same file


def test_a_damaged_file_is_reported_and_encoded_again(tokenizer, tmp_path, capsys):
    encoder = frozen(tokenizer, tmp_path)
    path = encoder.file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a torch file")
    encoder.warm(SENTENCES)
    assert "ignoring the damaged feature cache" in capsys.readouterr().out
    assert len(load_vectors(path)) == 3  # rewritten whole


def test_finetune_mode_never_touches_the_disk(tokenizer, tmp_path):
    encoder = frozen(tokenizer, tmp_path)
    encoder.encoder.set_mode("finetune")
    encoder.warm(SENTENCES)
    assert not any(tmp_path.iterdir())


def test_sentences_already_in_memory_never_touch_the_disk(tokenizer, tmp_path, capsys):
    encoder = frozen(tokenizer, tmp_path)
    encoder.warm(SENTENCES)
    encoder.file().write_bytes(b"reported as damaged if it were read")
    encoder.warm(SENTENCES[:2])  # train() warming what run_lab warmed
    assert "damaged" not in capsys.readouterr().out
    encoder.warm(["a sentence not seen yet"])  # this one must read it
    assert "damaged" in capsys.readouterr().out


def test_the_model_caches_while_frozen_and_forgets_when_finetuning(tiny_encoder):
    model = MultitaskBert(tiny_encoder).set_mode("pretrain")
    model.embed(["a cat"])
    model.set_mode("pretrain")
    assert len(model.feature_cache.vectors) == 1  # same weights: nothing to recompute
    model.set_mode("finetune")
    assert model.feature_cache.vectors == {}
    model.embed(["a cat"])  # a training encoder is never cached
    assert model.feature_cache.vectors == {}


def test_without_a_cache_a_frozen_model_gives_the_same_vectors(tiny_encoder):
    model = MultitaskBert(tiny_encoder).set_mode("pretrain")
    cached = model.embed(["a cat", "a dog"])
    model.feature_cache = None
    again = model.embed(["a cat", "a dog"])
    assert not again.requires_grad
    assert torch.allclose(cached, again, atol=1e-6)


def poison(path, rows: dict[int, float]) -> None:
    """Overwrite some stored vectors' first number with nan or inf, as a broken run might."""
    stored = torch.load(path, weights_only=True)
    for row, value in rows.items():
        stored["vectors"][row, 0] = value
    torch.save(stored, path)


def test_nan_vectors_on_disk_are_dropped_and_encoded_again(tokenizer, tmp_path, capsys):
    first = frozen(tokenizer, tmp_path)
    first.warm(SENTENCES)
    poison(first.file(), {0: float("nan"), 2: float("inf")})
    second = frozen(tokenizer, tmp_path)
    calls = count_forward_calls(second)
    second.warm(SENTENCES)
    out = capsys.readouterr().out
    assert f"the feature cache {first.file()} holds 2 of 3 vectors that are nan or inf" in out
    assert "encoded again" in out and "learning rate" not in out
    assert len(calls) == 1  # only the two dropped sentences, in one chunk
    assert torch.equal(second.embed(SENTENCES), first.embed(SENTENCES))
    stored = load_vectors(second.file())  # rewritten without them
    assert len(stored) == 3 and all(torch.isfinite(v).all() for v in stored.values())
    assert capsys.readouterr().out == ""


def test_pretraining_on_a_nan_cache_trains_instead_of_blaming_the_learning_rate(
    tiny_encoder, tmp_path, capsys
):
    data = {"sst": load_dataset("sst", "train", SAMPLE_DIR, limit=8)}
    model = MultitaskBert(tiny_encoder, features=FeatureCache(tmp_path)).set_mode("pretrain")
    model.feature_cache.warm(model.encoder, [e["sentence"] for e in data["sst"]], progress=False)
    path = model.feature_cache.file_for(model.encoder)
    poison(path, dict.fromkeys(range(8), float("nan")))
    model.feature_cache.clear()
    train(model, data, TrainConfig(batch_size=4), progress=False)  # no FloatingPointError
    assert "holds 8 of 8 vectors that are nan or inf" in capsys.readouterr().out


def test_an_encoder_that_gives_nan_is_stopped_before_its_vectors_are_cached(tokenizer, tmp_path):
    broken = frozen(tokenizer, tmp_path)
    with torch.no_grad():
        broken.encoder.bert.embeddings.word_embeddings.weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="frozen encoder tiny-bert gave nan or inf "
                       r"vectors for 3 of 3 sentences .*weights hold nan"):  # fmt: skip
        broken.warm(SENTENCES)
    assert not broken.file().exists() and broken.cache.vectors == {}


def stored_as(path, content) -> None:
    torch.save(content, path)


DAMAGE = {
    "truncated": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "empty": lambda path: path.write_bytes(b""),
    "wrong width": lambda path: stored_as(path, {"keys": [("a",)], "vectors": torch.zeros(1, 7)}),
    "whole numbers": lambda path: stored_as(
        path, {"keys": [("a",)], "vectors": torch.zeros(1, 32, dtype=torch.long)}
    ),
    "keys not texts": lambda path: stored_as(path, {"keys": [1], "vectors": torch.zeros(1, 32)}),
    "a list": lambda path: stored_as(path, [1, 2, 3]),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_or_foreign_file_is_ignored_and_rewritten(tokenizer, tmp_path, capsys, damage):
    encoder = frozen(tokenizer, tmp_path)
    encoder.warm(SENTENCES[:1])
    encoder.cache.clear()
    DAMAGE[damage](encoder.file())
    encoder.warm(SENTENCES)
    assert f"ignoring the damaged feature cache {encoder.file()}" in capsys.readouterr().out
    assert len(load_vectors(encoder.file(), width=32)) == 3


def test_a_cache_folder_that_cannot_be_written_is_warned_of_once(tokenizer, tmp_path, capsys):
    encoder = frozen(tokenizer, tmp_path)
    encoder.file().mkdir(parents=True)  # a folder where the file should go: the rename fails
    encoder.warm(SENTENCES[:2])
    out = capsys.readouterr().out
    assert f"warning: cannot write the feature cache {encoder.file()}" in out
    assert "MTLAB_CACHE_DIR" in out and "--no-feature-cache" in out
    encoder.warm(SENTENCES)  # goes on in memory, without trying the disk again
    assert capsys.readouterr().out == "" and len(encoder.cache.vectors) == 3
    assert list(tmp_path.rglob("*.tmp")) == []  # no half-written file left behind


def test_a_read_only_cache_folder_is_warned_of(tokenizer, tmp_path, capsys, monkeypatch):
    def refuse(obj, path):  # what a read-only folder does (tests run as root, who may write)
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(feature_cache.torch, "save", refuse)
    encoder = frozen(tokenizer, tmp_path)
    encoder.warm(SENTENCES)
    assert "cannot write the feature cache" in capsys.readouterr().out
    assert torch.isfinite(encoder.embed(SENTENCES)).all()


def test_a_cache_folder_that_is_a_file_or_inside_one_is_refused(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ValueError, match=f"feature cache folder {afile} is a file"):
        FeatureCache(afile)
    with pytest.raises(ValueError, match=f"folder {afile / 'sub'} is inside {afile}, a file"):
        FeatureCache(afile / "sub")
