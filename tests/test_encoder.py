import huggingface_hub.constants
import pytest
import torch

from mtlab.encoder import Encoder, ModelNotFoundError, default_model_path


def test_dynamic_padding_pads_to_the_longest_sentence_of_the_batch(tiny_encoder):
    batch = tiny_encoder.tokenize(["short", "a somewhat longer sentence here"])
    longest = len(tiny_encoder.tokenizer("a somewhat longer sentence here")["input_ids"])
    assert batch["input_ids"].shape == (2, longest) < (2, tiny_encoder.max_length)
    assert batch["attention_mask"][0].sum() == 3  # [CLS] short [SEP]


def test_mean_pooling_ignores_padding(tiny_encoder):
    tiny_encoder.eval()
    alone = tiny_encoder.embed(["short"])
    padded = tiny_encoder.embed(["short", "a much much longer sentence than the first one"])[:1]
    assert torch.allclose(alone, padded, atol=1e-5)


def test_cls_pooling_takes_the_first_token(tiny_encoder):
    tiny_encoder.pooling = "cls"
    tiny_encoder.eval()
    batch = tiny_encoder.tokenize(["hello world"])
    hidden = tiny_encoder.bert(**batch).last_hidden_state
    assert torch.allclose(tiny_encoder(**batch), hidden[:, 0])


def test_pretrain_freezes_finetune_trains(tiny_encoder):
    tiny_encoder.set_mode("pretrain")
    assert tiny_encoder.frozen and not tiny_encoder.bert.training
    first = tiny_encoder.embed(["a cat", "a dog"])
    assert not first.requires_grad
    assert torch.allclose(tiny_encoder.embed(["a dog"])[0], first[1], atol=1e-6)
    tiny_encoder.set_mode("finetune")
    assert not tiny_encoder.frozen
    assert tiny_encoder.embed(["a cat"]).requires_grad


def test_cache_filled_under_inference_mode_still_trains_a_head(tiny_model):
    tiny_model.set_mode("pretrain")
    with torch.inference_mode():
        tiny_model.embed(["a cat"])
    head = torch.nn.Linear(tiny_model.encoder.hidden_size, 1)
    head(tiny_model.embed(["a cat"])).sum().backward()
    assert head.weight.grad is not None


def test_default_encoder_loads_offline_and_embeds():
    encoder = Encoder.from_pretrained()
    assert encoder.name == "all-MiniLM-L6-v2" and encoder.hidden_size == 384
    vectors = encoder.eval().embed(["A man plays a guitar.", "Someone is playing guitar."])
    assert vectors.shape == (2, 384)
    assert torch.cosine_similarity(vectors[0], vectors[1], dim=0) > 0.6


def test_any_local_folder_goes_through_the_same_call(tmp_path, tiny_encoder):
    tiny_encoder.bert.save_pretrained(tmp_path)
    tiny_encoder.tokenizer.save_pretrained(tmp_path)
    encoder = Encoder.from_pretrained(tmp_path, pooling="cls")
    assert encoder.hidden_size == 32 and encoder.pooling == "cls"


def test_missing_model_path_says_what_was_looked_for(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist") as e:
        Encoder.from_pretrained(tmp_path / "bert-base-uncased")
    assert str(tmp_path / "bert-base-uncased") in str(e.value)


def test_folder_that_is_not_a_model_is_named(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ModelNotFoundError, match="not a Hugging Face model folder.*notes.txt"):
        Encoder.from_pretrained(tmp_path)


def test_uncached_hub_name_offline_explains_how_to_get_it(monkeypatch):
    # huggingface_hub reads HF_HUB_OFFLINE once, at import: set its constant too, or the call
    # waits for the network to time out (about 45 s here, with no internet)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelNotFoundError, match="local-dir"):
        Encoder.from_pretrained("mtlab-test/no-such-model")


def test_default_model_path_is_a_model_folder():
    assert (default_model_path() / "config.json").is_file()
