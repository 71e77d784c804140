import pytest
import torch

from mtlab.heads.kinds import ParaphraseHead, SentimentHead, SimilarityHead

H, B = 16, 4


@pytest.mark.parametrize("variant", SentimentHead.variants)
def test_sentiment_head_gives_five_logits(variant):
    head = SentimentHead(H, variant=variant)
    logits = head(torch.randn(B, H))
    assert logits.shape == (B, 5) and logits.dtype == torch.float32
    assert head.predict(logits).dtype == torch.long
    assert head.loss(logits, torch.tensor([0, 1, 2, 4])).ndim == 0


@pytest.mark.parametrize(
    "variant,shape",
    [("concat_diff_prod", (B, 2)), ("concat", (B, 2)), ("linear", (B,)), ("cross", (B, 2))],
)
def test_paraphrase_head_shapes(variant, shape):
    head = ParaphraseHead(H, variant=variant)
    u, v = torch.randn(B, H), torch.randn(B, H)
    out = head(u) if variant == "cross" else head(u, v)
    assert out.shape == shape and out.dtype == torch.float32
    prediction = head.predict(out)
    assert prediction.shape == (B,) and set(prediction.tolist()) <= {0, 1}
    head.loss(out, torch.tensor([0, 1, 1, 0])).backward()
    assert all(p.grad is not None for p in head.parameters())


def test_linear_paraphrase_head_is_a_sum_of_per_sentence_scores():
    """Why mistake 10 predicts one class: swapping partners leaves the total unchanged."""
    head = ParaphraseHead(H, variant="linear")
    u, v = torch.randn(2, H), torch.randn(2, H)
    paired = head(u, v).sum()
    swapped = head(u, v.flip(0)).sum()
    assert torch.allclose(paired, swapped, atol=1e-5)


@pytest.mark.parametrize("variant", SimilarityHead.variants)
def test_similarity_head_gives_one_float_score_per_pair(variant):
    head = SimilarityHead(H, variant=variant)
    scores = head(torch.randn(B, H), torch.randn(B, H))
    assert scores.shape == (B,) and scores.dtype == torch.float32
    head.loss(scores, torch.tensor([0.0, 1.5, 3.0, 5.0])).backward()


def test_scaling_shrinks_dot_product_by_sqrt_d():
    torch.manual_seed(0)
    scaled, unscaled = SimilarityHead(64, variant="scaled_dot"), SimilarityHead(64, variant="dot")
    unscaled.load_state_dict(scaled.state_dict())
    scaled.eval(), unscaled.eval()
    u, v = torch.randn(B, 64), torch.randn(B, 64)
    assert torch.allclose(unscaled(u, v) / 8.0, scaled(u, v), atol=1e-5)


def test_cosine_head_without_projection_has_no_parameters():
    head = SimilarityHead(H, variant="cosine", projection=False)
    assert list(head.parameters()) == []
    scores = head(torch.randn(B, H), torch.randn(B, H))
    assert scores.abs().max() <= 5.0 + 1e-5


def test_residual_projection_starts_next_to_the_encoders_own_cosine():
    u, v = torch.randn(B, H), torch.randn(B, H)
    zero_shot = 5.0 * torch.nn.functional.cosine_similarity(u, v, dim=-1)
    residual = SimilarityHead(H).eval()
    plain = SimilarityHead(H, residual=False).eval()
    assert torch.allclose(residual(u, v), zero_shot, atol=0.05)
    assert not torch.allclose(plain(u, v), zero_shot, atol=0.5)


def test_unknown_variant_lists_the_choices():
    with pytest.raises(ValueError, match="concat_diff_prod"):
        ParaphraseHead(H, variant="concatenate")
