"""Interactive tools for notebooks: poke at a model instead of reading numbers."""

from __future__ import annotations

import ipywidgets as w
import torch

from mtlab.model import MultitaskBert

SENTIMENT = ["very negative", "negative", "neutral", "positive", "very positive"]


def predict_all(model: MultitaskBert, first: str, second: str) -> dict[str, str]:
    """All three heads' answers: sentiment of `first`, paraphrase and similarity of the pair."""
    model.eval()
    with torch.inference_mode():
        probs = model("sst", {"sentences": [first]}).softmax(-1)[0]
        pair = {"sentences1": [first], "sentences2": [second]}
        quora = model("quora", pair)
        similarity = model("sts", pair)[0].item()
    if quora.dim() == 1:  # single-logit head: probability of "duplicate"
        duplicate = torch.sigmoid(quora)[0].item()
    else:
        duplicate = quora.softmax(-1)[0, 1].item()
    label = int(probs.argmax())
    return {
        "sentiment": f"{SENTIMENT[label]} ({label}, p={probs[label]:.2f})",
        "paraphrase": f"{'duplicate' if duplicate > 0.5 else 'not duplicate'} (p={duplicate:.2f})",
        "similarity": f"{similarity:.2f} / 5",
    }


def prediction_explorer(
    model: MultitaskBert,
    first: str = "A man is playing a guitar on stage.",
    second: str = "Someone performs music with a guitar.",
) -> w.VBox:
    """Type a sentence and a second one; see what all three heads make of them."""
    box1 = w.Text(value=first, description="sentence 1", layout=w.Layout(width="90%"))
    box2 = w.Text(value=second, description="sentence 2", layout=w.Layout(width="90%"))
    result = w.HTML()

    def update(_=None) -> None:
        answers = predict_all(model, box1.value, box2.value)
        rows = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in answers.items())
        result.value = f"<table>{rows}</table>"

    box1.observe(update, names="value")
    box2.observe(update, names="value")
    update()
    return w.VBox([box1, box2, result])
