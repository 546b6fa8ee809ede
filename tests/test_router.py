"""The route classifier: held-out accuracy, confidence scores, explanations, overrides, caching."""
from __future__ import annotations

import numpy as np
import pytest

from bot.engine import router as R


@pytest.fixture(scope="module")
def embedder():
    from retrieval.embed import load_embedder

    return load_embedder()


@pytest.fixture(scope="module")
def trained(embedder, tmp_path_factory):
    return R.Router.load(embedder, tmp_path_factory.mktemp("router-cache"))


def test_route_set_has_400_examples_with_fixed_split_in_every_class():
    examples = R.load_examples()
    assert len(examples) >= 400
    for route in R.ROUTES:
        assert sum(ex["route"] == route for ex in examples) >= 120
        assert sum(ex["route"] == route and ex["split"] == "heldout" for ex in examples) >= 25
    assert {ex["split"] for ex in examples} == {"train", "heldout"}
    texts = [ex["text"] for ex in examples if ex["text"]]
    assert len(texts) == len(set(texts)), "examples must not repeat"


def test_heldout_accuracy_is_at_least_095_overall_and_090_per_class(trained):
    heldout = [ex for ex in R.load_examples() if ex["split"] == "heldout"]
    report = trained.evaluate(heldout)
    assert report["accuracy"] >= 0.95, report["misses"]
    for route in R.ROUTES:
        assert report["per_class"][route]["accuracy"] >= 0.9


@pytest.mark.parametrize("question,log,expected", [
    ("who owns the release pipeline?", None, "rag"),
    ("can you put that in a markdown table", None, "finetune"),
    ("why did this fail", "ERROR: Could not find a version that satisfies the requirement foo==9.9", "hybrid"),
    ("", "FAILED tests/test_x.py::test_y - AssertionError", "hybrid"),
])
def test_classifier_routes_typical_requests(trained, question, log, expected):
    assert trained.classify(question, log).route == expected


def test_scores_are_probabilities_and_debug_explains_the_choice(trained):
    decision = trained.classify("what is our policy on quarantining flaky tests?")
    assert set(decision.scores) == set(R.ROUTES)
    assert abs(sum(decision.scores.values()) - 1.0) < 1e-5
    assert decision.confidence == max(decision.scores.values())
    debug = decision.debug()
    assert debug["source"] == "classifier"
    assert set(debug["features"]) == set(R.FEATURES)
    assert "embedding" in debug["contributions"]


def test_leading_keyword_overrides_the_classifier_and_is_stripped(trained):
    decision = trained.decide("rag: why did the build fail?", log_text="npm ERR! code E403")
    assert (decision.route, decision.source, decision.question) == ("rag", "keyword", "why did the build fail?")
    json_decision = trained.decide("json: why did this fail", log_text="Killed")
    assert json_decision.route == "finetune" and json_decision.format == "json"


def test_unknown_leading_word_is_not_a_keyword(trained):
    assert R.split_keyword("Error: connection refused") == (None, None, "Error: connection refused")


def test_overrides_apply_keyword_then_request_then_channel(trained):
    routes = {"C1": "rag"}
    assert trained.decide("why is main red", channel="C1", channel_routes=routes).source == "channel"
    assert trained.decide("why is main red", forced="finetune", channel="C1", channel_routes=routes).route == "finetune"
    assert trained.decide("explain: who owns this", forced="rag").route == "hybrid"
    assert trained.decide("who owns CI?", channel="C2", channel_routes=routes).source == "classifier"


def test_shipped_weights_match_the_route_set_and_the_embedding_model(embedder, trained):
    key = R.data_key(R.ROUTES_FILE.read_text(encoding="utf-8"), embedder.name)
    assert trained.weights.key == key, "routes.jsonl changed: run `cibot dev router-weights` to re-ship weights"


def test_without_shipped_weights_training_is_deterministic_and_cached(embedder, trained, tmp_path, monkeypatch):
    monkeypatch.setattr(R, "SHIPPED_WEIGHTS", tmp_path / "none.json")
    first = R.Router.load(embedder, tmp_path)
    path = next(tmp_path.glob("router-*.npz"))
    assert np.allclose(first.weights.coef, trained.weights.coef, atol=1e-4)
    second = R.Router.load(embedder, tmp_path)  # from the cache, not retrained
    assert np.array_equal(first.weights.coef, second.weights.coef)
    path.write_bytes(b"not a numpy file")  # a torn cache file is retrained and replaced, not fatal
    calls = []
    monkeypatch.setattr(R, "train", lambda *a, **k: calls.append(1) or first.weights)
    assert np.array_equal(R.Router.load(embedder, tmp_path).weights.coef, first.weights.coef)
    assert calls == [1] and R.RouterWeights.load(path).key == first.weights.key


def test_features_see_pasted_alerts_and_format_words():
    alert = R.route_features("CI failed\nError: Process completed with exit code 1.\nnpm ERR! code E1", None, False)
    assert alert["log_like_lines"] > 0 and alert["has_log"] == 0
    fmt = R.route_features("give me that as JSON in a table", None, True)
    assert fmt["format_words"] > 0 and fmt["has_history"] == 1.0
