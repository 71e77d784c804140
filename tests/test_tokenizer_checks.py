"""A tokenizer whose ids are shifted against its model is refused at load, in one line.

The fixtures are the packaged MiniLM folder with one file edited (its 90 MB of weights are
linked, not copied), and tiny byte-level BPE models built here, with no download.
"""

import shutil

import pytest
from tokenizers import ByteLevelBPETokenizer
from transformers import (
    BertConfig,
    BertModel,
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaModel,
)

from mtlab.encoder import Encoder, ModelNotFoundError, default_model_path, load_pretrained

SMALL_FILES = ("config.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def minilm_copy(tmp_path, edit=None, tokenizer_json: bool = True):
    """The packaged folder in tmp_path, its vocab.txt lines passed through `edit`."""
    folder = tmp_path / "minilm"
    folder.mkdir()
    source = default_model_path()
    for name in SMALL_FILES + (("tokenizer.json",) if tokenizer_json else ()):
        shutil.copy(source / name, folder / name)
    (folder / "model.safetensors").symlink_to(source / "model.safetensors")
    if edit is not None:
        lines = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
        (folder / "vocab.txt").write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return folder


def without(token):
    return lambda lines: [line for line in lines if line != token]


def moved(token, line):
    def edit(lines):
        rest = without(token)(lines)
        return [*rest[:line], token, *rest[line:]]

    return edit


BROKEN_VOCABS = {
    "no-unk": (without("[UNK]"), r"vocab\.txt has no line '\[UNK\]' \(the unk token\).* id 100"),
    "moved-unk": (moved("[UNK]", 200), r"vocab\.txt line 201 holds '\[UNK\]'.* gives it id 100"),
    "no-pad": (without("[PAD]"), r"vocab\.txt has no line '\[PAD\]' \(the pad token\)"),
    "duplicate": (
        lambda lines: [lines[0], "the", *lines[1:]],
        r"vocab\.txt lists 'the' twice, on lines 2 and 1998",
    ),
    "too-many": (
        lambda lines: [*lines, *(f"[extra{i}]" for i in range(8))],
        r"vocab\.txt holds 30530 tokens but the model's embedding matrix has 30522 rows",
    ),
}


@pytest.mark.parametrize("case", BROKEN_VOCABS)
def test_a_vocab_txt_that_disagrees_with_the_tokenizer_is_refused(tmp_path, case):
    edit, message = BROKEN_VOCABS[case]
    folder = minilm_copy(tmp_path, edit)
    with pytest.raises(ModelNotFoundError, match=message) as error:
        load_pretrained(folder)
    assert str(folder / "vocab.txt") in str(error.value) and "\n" not in str(error.value)
    assert "save_pretrained" in str(error.value)  # what to do about it


@pytest.mark.parametrize("token", ["[UNK]", "[PAD]"])
def test_a_special_token_missing_from_a_lone_vocab_txt_is_refused(tmp_path, token):
    # without tokenizer.json, transformers re-adds the token at the end: same size, ids shifted
    folder = minilm_copy(tmp_path, without(token), tokenizer_json=False)
    with pytest.raises(ModelNotFoundError, match=rf"has no line '\{token[:-1]}\]'.* id 30521"):
        load_pretrained(folder)


def test_a_vocab_txt_with_more_tokens_than_the_model_is_refused(tmp_path):
    folder = minilm_copy(tmp_path, lambda lines: [*lines, "[extra]"], tokenizer_json=False)
    with pytest.raises(ModelNotFoundError, match="30523 tokens but the model expects 30522"):
        load_pretrained(folder)


def test_a_folder_with_only_tokenizer_json_loads_with_the_same_ids(tmp_path, tokenizer):
    folder = minilm_copy(tmp_path)
    (folder / "vocab.txt").unlink()
    _, loaded, _ = load_pretrained(folder)
    sentence = "A man plays a guitar, unseen-wordpiece qzxj."
    assert loaded(sentence)["input_ids"] == tokenizer(sentence)["input_ids"]


def tiny_bpe_folder(tmp_path, specials: list[str], **names):
    """A byte-level BPE tokenizer trained here on three sentences, with vocab.json and
    merges.txt, saved next to a tiny model; `names` maps kinds to tokens (pad_token=...)."""
    bpe = ByteLevelBPETokenizer()
    text = ["a dog runs in the park", "the cat sleeps", "someone plays a guitar"]
    bpe.train_from_iterator(text, vocab_size=300, min_frequency=1, special_tokens=specials)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, **names)
    folder = tmp_path / "bpe"
    folder.mkdir()
    bpe.save_model(str(folder))  # vocab.json and merges.txt, GPT-2 style
    tokenizer.save_pretrained(folder)
    return folder, tokenizer


def tiny_config(config_class, tokenizer, **settings):
    sizes = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    return config_class(vocab_size=len(tokenizer), max_position_embeddings=40, **sizes, **settings)


def test_a_byte_level_bpe_tokenizer_without_an_unknown_token_loads(tmp_path):
    folder, tokenizer = tiny_bpe_folder(tmp_path, ["<|endoftext|>"], eos_token="<|endoftext|>")
    assert tokenizer.unk_token is None and tokenizer.pad_token is None
    BertModel(tiny_config(BertConfig, tokenizer, pad_token_id=None)).save_pretrained(folder)
    encoder = Encoder.from_pretrained(folder)
    assert encoder.embed(["a dog runs", "hello there"]).shape == (2, 16)


ROBERTA_SPECIALS = {"bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>",
                    "unk_token": "<unk>", "mask_token": "<mask>"}  # fmt: skip


@pytest.mark.parametrize("pad_token_id, loads", [(1, True), (0, False)])
def test_a_roberta_style_folder_loads_when_its_padding_id_fits(tmp_path, pad_token_id, loads):
    folder, tokenizer = tiny_bpe_folder(
        tmp_path, list(ROBERTA_SPECIALS.values()), **ROBERTA_SPECIALS
    )
    assert tokenizer.pad_token_id == 1
    RobertaModel(tiny_config(RobertaConfig, tokenizer, pad_token_id=pad_token_id)).save_pretrained(
        folder
    )
    if loads:
        assert Encoder.from_pretrained(folder).embed(["the cat"]).shape == (1, 16)
    else:
        with pytest.raises(ModelNotFoundError, match="pad_token_id 0 but the tokenizer pads with "):
            load_pretrained(folder)
