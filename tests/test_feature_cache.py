"""Frozen vectors on disk: read back exactly, never reused for other weights or settings."""

import torch

from mtlab import FeatureCache, MultitaskBert
from mtlab.feature_cache import load_vectors
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
