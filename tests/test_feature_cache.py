"""Frozen vectors on disk: read back exactly, never reused for other weights or settings."""

import torch

from mtlab.encoder import Encoder
from mtlab.feature_cache import load_vectors
from tests.conftest import make_tiny_encoder

SENTENCES = ["a fine film", "dull and long", "a dog runs", "a fine film"]


def frozen(tokenizer, cache_dir, **settings) -> Encoder:
    encoder = make_tiny_encoder(tokenizer)
    for name, value in settings.items():
        setattr(encoder, name, value)
    encoder.feature_cache_dir = cache_dir
    encoder.set_mode("pretrain")
    return encoder


def count_forward_calls(encoder: Encoder) -> list:
    calls = []
    encoder.bert.register_forward_hook(lambda *_: calls.append(1))
    return calls


def test_second_encoder_reads_every_vector_from_disk(tokenizer, tmp_path):
    first = frozen(tokenizer, tmp_path)
    first.warm_cache(SENTENCES, progress=False)
    path = first.feature_cache_file()
    assert path.is_file() and len(load_vectors(path)) == 3  # unique sentences

    second = frozen(tokenizer, tmp_path)
    calls = count_forward_calls(second)
    second.warm_cache(SENTENCES, progress=False)
    vectors = second.embed(SENTENCES)
    assert calls == []  # nothing encoded
    assert torch.equal(vectors, first.embed(SENTENCES))


def test_new_sentences_are_encoded_and_added(tokenizer, tmp_path):
    frozen(tokenizer, tmp_path).warm_cache(SENTENCES[:2], progress=False)
    encoder = frozen(tokenizer, tmp_path)
    calls = count_forward_calls(encoder)
    encoder.warm_cache(SENTENCES, progress=False)
    assert len(calls) == 1  # one chunk, holding only the new sentence
    assert len(load_vectors(encoder.feature_cache_file())) == 3


def test_other_weights_or_settings_get_another_file(tokenizer, tmp_path):
    base = frozen(tokenizer, tmp_path).feature_cache_file()
    assert frozen(tokenizer, tmp_path, pooling="cls").feature_cache_file() != base
    assert frozen(tokenizer, tmp_path, max_length=16).feature_cache_file() != base
    changed = frozen(tokenizer, tmp_path)
    with torch.no_grad():
        changed.bert.encoder.layer[0].output.dense.bias[0] += 1e-3  # finetuned, say
    assert changed.feature_cache_file() != base
    assert frozen(tokenizer, tmp_path).feature_cache_file() == base  # same weights: same file


def test_a_damaged_file_is_reported_and_encoded_again(tokenizer, tmp_path, capsys):
    encoder = frozen(tokenizer, tmp_path)
    path = encoder.feature_cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a torch file")
    encoder.warm_cache(SENTENCES, progress=False)
    assert "ignoring the damaged feature cache" in capsys.readouterr().out
    assert len(load_vectors(path)) == 3  # rewritten whole


def test_finetune_mode_never_touches_the_disk(tokenizer, tmp_path):
    encoder = frozen(tokenizer, tmp_path)
    encoder.set_mode("finetune")
    encoder.warm_cache(SENTENCES, progress=False)
    assert not any(tmp_path.iterdir())


def test_sentences_already_in_memory_never_touch_the_disk(tokenizer, tmp_path, capsys):
    encoder = frozen(tokenizer, tmp_path)
    encoder.warm_cache(SENTENCES, progress=False)
    encoder.feature_cache_file().write_bytes(b"reported as damaged if it were read")
    encoder.warm_cache(SENTENCES[:2], progress=False)  # train() warming what run_lab warmed
    assert "damaged" not in capsys.readouterr().out
    encoder.warm_cache(["a sentence not seen yet"], progress=False)  # this one must read it
    assert "damaged" in capsys.readouterr().out
