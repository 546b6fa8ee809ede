"""Which identifiers of an excerpt a root cause quotes (retrieval.logs.naming) and the extractive root cause."""
from __future__ import annotations

import numpy as np

from bot.engine import naming_fit
from bot.engine.fallback import from_excerpt, with_names
from retrieval.logs import naming
from retrieval.logs.excerpt import extract
from retrieval.logs.identifiers import identifiers
from retrieval.types import Excerpt, LogLine

ERLANG = "\n".join(
    [f" ERLC\t../ebin/mod_{i}.beam" for i in range(30)]
    + ["compile: warnings being treated as errors",
       "beam_ssa.erl:127: import lists:umerge/1 is unused",
       "make[3]: *** [../ebin/beam_ssa.beam] Error 1",
       "make[3]: Leaving directory `/home/travis/build/erlang/otp/lib/compiler/src'",
       "make[2]: *** [opt] Error 2",
       "make: *** [libs] Error 2",
       "*** Failed ***"]
)
RAKE = "\n".join(
    ["$ bundle install", "Using rake 12.0.0", "$ rake", "rake aborted!",
     "No Rakefile found (looking for: rakefile, Rakefile, rakefile.rb, Rakefile.rb)",
     "/home/travis/.rvm/gems/ruby-2.2.5/bin/ruby_executable_hooks:15:in `eval'",
     "(See full trace by running task with --trace)",
     'The command "rake" exited with 1.', "Done. Your build exited with 1."]
)


def test_identifiers_are_specific_names_in_order_each_once():
    assert identifiers("FAILED tests/test_io.py::test_read - AssertionError in test_read TS2304") == [
        "tests/test_io.py::test_read", "AssertionError", "test_read", "TS2304"]
    assert identifiers("error: build failed, see https://ci.example.com/x") == []
    # A Ruby backtrace frame names its file and line, not "...:15:in".
    assert identifiers("/usr/bin/ruby_executable_hooks:15:in `eval'") == ["usr/bin/ruby_executable_hooks:15"]


def test_shipped_weights_match_the_feature_set():
    w = naming.shipped_weights()
    assert w.shape == (len(naming.FEATURES),)
    lines = [LogLine(1, "a"), LogLine(2, "b.py:3: error")]
    assert naming.features(lines).shape == (2, len(naming.FEATURES))


def test_the_extractive_cause_names_the_file_beside_a_generic_make_error():
    cause, _ = from_excerpt(extract(ERLANG))
    assert "Error" in cause.split(";")[0]            # the key line says that it failed
    assert "beam_ssa.erl:127" in cause               # the line beside it says what failed


def test_the_extractive_cause_names_what_rake_could_not_find():
    cause, _ = from_excerpt(extract(RAKE))
    assert "rakefile.rb" in cause.lower()


def test_without_names_the_cause_is_the_key_line_alone():
    cause, _ = from_excerpt(extract(ERLANG), names=False)
    assert "beam_ssa.erl:127" not in cause and "the failing lines name" not in cause


def test_named_skips_what_was_already_said_and_quotes_line_numbers():
    excerpt = extract(ERLANG)
    everything = naming.named(excerpt)
    assert everything and all(excerpt_line_has(excerpt, n) for n in everything)
    said = everything[0].text
    assert all(n.text != said for n in naming.named(excerpt, skip=f"it fails in {said}"))


def excerpt_line_has(excerpt: Excerpt, n: naming.Named) -> bool:
    return any(ln.n == n.line and n.text in ln.text for ln in excerpt.lines)


def test_with_names_cites_the_key_line_and_adds_only_the_identifiers_a_model_left_out():
    excerpt = extract(ERLANG)
    added = with_names("the compiler rejected an unused import", excerpt)
    assert added.startswith("the compiler rejected an unused import (line 33: make[3]: *** [../ebin/beam_ssa.beam] Error 1;")
    assert "the failing lines name beam_ssa.erl:127 (line 32)" in added
    complete = "beam_ssa.erl:127 imports lists:umerge/1 without using it"
    assert "beam_ssa.erl:127 (line" not in with_names(complete, excerpt)


def test_with_names_only_cites_the_key_line_when_the_log_names_nothing():
    excerpt = Excerpt(lines=[LogLine(1, "Killed"), LogLine(2, "Error: exit 137")])
    assert with_names("the runner was out of memory", excerpt) == "the runner was out of memory (line 2: Error: exit 137)"
    assert with_names("it failed with Error: exit 137", excerpt) == "it failed with Error: exit 137"


def test_the_excerpt_records_its_best_blocks_anchors_inside_the_blocks_span():
    excerpt = extract(ERLANG)
    lo, hi = excerpt.focus_span
    assert excerpt.focus and all(lo <= n <= hi for n in excerpt.focus)
    assert extract("all good\nDone.").focus == ()


def test_training_learns_which_line_names_the_failure():
    # Synthetic logs where the naming line always follows the best block's anchor: the trainer
    # must learn to put it first, above the heavier anchor line itself.
    samples = []
    for k in range(12):
        lines = [LogLine(i + 1, f"step {i} ok") for i in range(6)]
        lines += [LogLine(7, "make: *** [all] Error 2"), LogLine(8, f"  in src/mod_{k}.c:{k + 3}"),
                  LogLine(9, "The command \"make\" exited with 2.")]
        x = naming.features(lines, focus=(7,), span=(7, 8))
        y = np.array([ln.n == 8 for ln in lines], dtype=np.float64)
        samples.append((f"repo{k}", x, y, Excerpt(lines, focus=(7,), focus_span=(7, 8)), [f"src/mod_{k}.c"]))
    weights = naming_fit.train(samples, steps=200)
    ex = samples[0][3]
    assert ex.lines[naming.rank_lines(ex, weights)[0]].n == 8
    assert naming_fit.hit_rate(samples, weights) == 1.0
    assert naming_fit.hit_rate(samples, None) == 0.0   # the key line alone never names the file


def test_eval_scores_the_raw_answer_and_the_answer_as_the_engine_serves_it(tmp_path):
    from bot.commands.eval import _as_served
    from bot.settings import load_settings
    from training.eval.evaluate import evaluate
    from training.finetune.data import Example
    from training.inference.types import Generation

    class OneAnswer:
        def __init__(self, logprob):
            self.logprob = logprob

        def generate(self, messages, *, max_new_tokens=None, json_schema=None, cause_only=False):
            return Generation(text="Root Cause: an assertion in the order tests failed.\nFix: fix the total.",
                              new_tokens=5, seconds=0.01, meta={"mean_logprob": self.logprob})

    log = tmp_path / "build.log"
    log.write_text("\n".join(["$ pytest -q", "..F.", "    def test_total():", ">       assert total([1, 2]) == 4",
                              "E       assert 3 == 4", "tests/test_orders.py:12: AssertionError",
                              "FAILED tests/test_orders.py::test_total - assert 3 == 4", "1 failed, 3 passed in 0.12s",
                              "Error: Process completed with exit code 1."]))
    # The input is what the model saw (an excerpt); as served, the original log is excerpted.
    example = Example(input="(excerpt shown to the model)", output="",
                      meta={"key_ids": ["tests/test_orders.py"], "log_path": str(log)})
    post = _as_served(load_settings())

    m = evaluate(OneAnswer(-0.2), [example], context="none", post=post)
    assert m["id_recall"] == 0.0 and m["served_id_recall"] == 1.0
    assert evaluate(OneAnswer(-0.2), [example], context="none")["served_id_recall"] is None
    # An unsure answer gives way to the key line, which names the file too.
    assert evaluate(OneAnswer(-5.0), [example], context="none", post=post)["served_id_recall"] == 1.0


def test_separators_clock_times_and_rates_are_not_names():
    lines = [LogLine(1, "_______________ test_total _______________"), LogLine(2, "[12:30:01] fetched 3 kB/s"),
             LogLine(3, "E       assert 3 == 4"), LogLine(4, "tests/test_orders.py:12: AssertionError")]
    names = [n.text for n in naming.named(Excerpt(lines), at_most=4, lines=4)]
    assert "tests/test_orders.py:12" in names and "test_total" in names
    assert not any(set(n) <= set("_") or n.startswith("12:") or n.endswith("/s") for n in names)


def test_python_m_bot_naming_is_the_naming_ranker_command():
    # issue 19 names `python -m bot.naming` as the command that prints the grouped-CV figure
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "bot.naming", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "naming ranker" in out.stdout and "--write" in out.stdout


def test_an_escaped_newline_in_a_printed_string_is_not_part_of_a_name():
    from retrieval.logs.excerpt import extract
    from retrieval.logs.naming import named

    log = ("$ mix test\n" + "compiling\n" * 20 + "  1) test renders errors (Phoenix.RenderErrorsTest)\n"
           + "     Assertion with == failed\n"
           + '     left:  "\\n21:37:31.096 [warn]  no configuration found for otp_app :phoenix\\nThe end"\n'
           + "     right: \"\"\n1 failure\nThe command \"mix test\" exited with 1.\n")
    names = [n.text for n in named(extract(log.encode(), max_lines=30), at_most=8, lines=12)]
    assert not any(n.startswith(("n21:", "nThe")) for n in names), names


def test_a_windows_path_keeps_its_folder_names():
    from retrieval.logs.excerpt import extract
    from retrieval.logs.naming import named

    log = ("> pytest\n" + "collecting\n" * 20
           + r"FAILED D:\a\repo\tests\test_router.py::test_route - AssertionError: 1 != 2" + "\n"
           + "Error: Process completed with exit code 1.\n")
    names = [n.text for n in named(extract(log.encode(), max_lines=30), at_most=8, lines=12)]
    assert not any(n.startswith("est_router") for n in names), names
