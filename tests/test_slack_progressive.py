"""Progressive answers: the log's own answer first, the model's answer in its place after."""
from __future__ import annotations

import json

from engine_fakes import FakeRetriever
from slack_fakes import Harness
from test_ci_webhooks import JOB, REPO, RUN, seed_github  # noqa: F401

from bot.engine.pipeline import AnswerEngine


def test_the_logs_own_answer_comes_first_and_the_models_replaces_it(ci_api, monkeypatch):
    """With a model, the draft (key line + evidence, no vote buttons) is posted before generation
    ends; the model's answer then replaces it in place."""
    import threading

    from engine_fakes import FakeGenerator

    from bot.slack.blocks import DRAFT_NOTE

    release = threading.Event()  # the model answers only once the test has seen the draft

    class SlowGenerator(FakeGenerator):
        def generate(self, messages, **kw):
            release.wait(20)
            return super().generate(messages, **kw)

    for key, value in {**ci_api.env(), "CIBOT_GITHUB__WEB_URL": "https://github.com"}.items():
        monkeypatch.setenv(key, value)
    seed_github(ci_api)
    gen = SlowGenerator().enqueue(["Root Cause: src/server/routes.ts is not formatted with Prettier.\n"
                                   "Fix: run `yarn prettier --write src/server/routes.ts` and commit."])
    harness = Harness()
    harness.engine = AnswerEngine(retriever=FakeRetriever([]), generator=gen)
    try:
        harness.mention(f"why? <https://github.com/{REPO}/actions/runs/{RUN}/job/{JOB}>")
        # The model is held until `release`: the draft can only arrive if it is posted before generation ends.
        (draft,) = harness.api.wait_for("chat.update", 1, 10, where=lambda c: DRAFT_NOTE[:20] in json.dumps(c.params))
        release.set()
        (final,) = harness.answered(1, timeout=20)
        assert "routes.ts" in json.dumps(draft.params) and "feedback_up" not in json.dumps(draft.params)
        assert draft.params["ts"] == final.params["ts"]  # the same message, replaced
        assert "Prettier" in json.dumps(final.params) and DRAFT_NOTE[:20] not in json.dumps(final.params)
    finally:
        release.set()
        harness.close()
