"""Train the tiny model once; run plainly or under torchrun (see test_distributed.py).

python tests/ddp_worker.py OUT.json
torchrun --standalone --nproc_per_node 2 tests/ddp_worker.py OUT.json
"""

import json
import os
import sys

import torch
import torch.distributed as dist
from transformers import AutoTokenizer, BertConfig, BertModel

from mtlab import TrainConfig, train
from mtlab.encoder import Encoder, default_model_path
from mtlab.model import MultitaskBert

WORDS = ["good", "bad", "fine", "awful", "great", "dull", "fun", "long"]


def main(out: str) -> None:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("gloo")
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)  # fmt: skip
    model = MultitaskBert(Encoder(BertModel(config), tokenizer, max_length=32), dropout=0.0)
    sets = {
        "sst": [{"id": f"s{i}", "sentence": f"a {WORDS[i % 8]} film number {i}", "label": i % 5}
                for i in range(24)],
        "sts": [{"id": f"t{i}", "sentence1": f"the {WORDS[i % 8]} cat", "sentence2": f"a {WORDS[i % 5]} dog",
                 "label": float(i % 6)} for i in range(24)],
    }  # fmt: skip
    history = train(model, sets, TrainConfig(epochs=2, batch_size=6, log_every=1), progress=False)
    if int(os.environ.get("RANK", "0")) == 0:
        weights = torch.cat([p.detach().flatten() for p in model.parameters()])
        with open(out, "w") as f:
            json.dump({"loss": history["loss"].tolist(), "weights": weights.tolist()}, f)
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
