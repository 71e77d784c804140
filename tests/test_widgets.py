from mtlab.widgets import predict_all, prediction_explorer


def test_predict_all_answers_for_each_head(tiny_model):
    answers = predict_all(tiny_model, "a fine film", "a good movie")
    assert set(answers) == {"sentiment", "paraphrase", "similarity"}
    assert answers["similarity"].endswith("/ 5")


def test_explorer_updates_when_a_sentence_changes(tiny_model):
    box = prediction_explorer(tiny_model)
    first, _, result = box.children
    before = result.value
    first.value = "an utterly different sentence about the stock market"
    assert result.value != before and "<table>" in result.value
