"""A model's garbled words: a misspelt log name is written as the log writes it, and a cause with
a coined word is set aside for the log's key line."""
from __future__ import annotations

import json

from bot.engine.finish import finish
from retrieval.logs.excerpt import extract
from retrieval.logs.wording import COMPLETE_MAX, WORDS_FILE, build, complete_quotes, is_word, snap, unknown_words

LOG = ("/Users/travis/build/acme/Kit/Source/Kit.swift:97:2: error: @dynamicMemberLookup attribute requires "
       "'Kit' to have a 'subscript(dynamicMember:)' method\n** BUILD FAILED **\n")


def test_a_misspelt_log_name_is_written_as_the_log_writes_it():
    text, fixed = snap("The `dynamicMembershipLookup` attribute on Kit is missing its subscript.", LOG)
    assert "`dynamicMemberLookup` attribute" in text and fixed == [("dynamicMembershipLookup", "dynamicMemberLookup")]


def test_english_its_regular_forms_product_names_jargon_and_log_words_are_not_flagged():
    words = frozenset({"configure", "install", "javascript", "attribute", "missing", "subscript", "method",
                       "zip", "flaky", "hard", "code", "lock", "file"})
    text = ("Reinstalled and misconfigured JavaScript; the attribute's subscript method is missing in Kit.swift; "
            "unzipped, hardcoded lockfiles and flakiness")
    assert unknown_words(text, LOG, words) == []
    assert is_word("reconfigures", words) and not is_word("Clojional", words)


def test_coined_words_and_unseen_camel_case_names_are_flagged():
    words = frozenset({"install", "build", "repository"})
    assert unknown_words("Install the Clojional build from the ClojureCore repository", LOG, words) == \
        ["Clojional", "ClojureCore"]
    assert unknown_words("", LOG, frozenset()) == []  # no word list: nothing is judged


def test_the_shipped_word_list_has_english_and_ci_words_and_no_coinages():
    words = set(WORDS_FILE.read_text().split())
    assert {"dependency", "installed", "classpath", "lockfile", "webpack", "timeout"} <= words
    assert not {"clojional", "dynamicmembershiplookup"} & words and len(words) > 10_000


def test_the_word_list_is_built_from_whole_word_tokens_and_the_bundled_texts(tmp_path):
    tokenizer = tmp_path / "tokenizer.json"
    tokenizer.write_text(json.dumps({"model": {"vocab": {"\u0120build": 1, "\u0120fail": 2, "ing": 3, "\u0120x86ab": 4,
                                                         "\u0120timeout": 5}}}))
    assert build(tokenizer, ["Rerun the JavaScript linter."]) == ["build", "fail", "javascript", "linter", "rerun",
                                                                  "the", "timeout"]


def test_a_cause_with_a_coined_word_is_set_aside_and_a_misspelt_name_is_kept_fixed():
    excerpt = extract(("$ swift build\n" + "Compiling Kit\n" * 30 + LOG).encode())
    coined = finish(("Kit.swift fails because the Clojional attribute is gone.", "Add the subscript."), excerpt, [])
    assert coined.problem and "neither the log nor English" in coined.problem
    assert "Clojional" not in coined.cause and "dynamicMemberLookup" in coined.cause
    misspelt = finish(("Kit.swift:97:2 needs a subscript for dynamicMembershipLookup.",
                       "Add `subscript(dynamicMember:)` to Kit. Then ask the Frobnicatorium."), excerpt, [])
    assert misspelt.problem is None and "dynamicMembershipLookup" not in misspelt.cause
    assert "dynamicMemberLookup" in misspelt.cause
    assert "Frobnicatorium" not in misspelt.fix and "subscript(dynamicMember:)" in misspelt.fix


def test_a_quote_cut_short_is_written_out_from_the_log_line_that_holds_it():
    lines = ["2019-01-01T00:00:00Z Could not find .travis.yml, using standard configuration.",
             "No Rakefile found (looking for: rakefile, Rakefile, rakefile.rb, Rakefile.rb)",
             "fatal: Failed to connect to github.com port 443: Connection timed out",
             'The command "./travis-tool.sh run_tests" exited with 1.',
             "E   " + "x" * 30 + " in `eval' " + "word " * 40]
    said = ("fails with `Could not find .travis..`, then `No Rakefile found (looking for: rakefile…` "
            "and `Failed to connect to GitHub.com…`; run `./travis-tool.sh…`")
    assert complete_quotes(said, lines) == (
        "fails with `Could not find .travis.yml, using standard configuration.`, then `No Rakefile found "
        "(looking for: rakefile, Rakefile, rakefile.rb, Rakefile.rb)` and `Failed to connect to github.com "
        "port 443: Connection timed out`; run `./travis-tool.sh run_tests`")  # to the log's own closing quote
    # Not in the log, too short to say which line, or a long line: left, left, capped at a word.
    assert complete_quotes("run `npm ci --legacy…` and `Could…`", lines) == "run `npm ci --legacy…` and `Could…`"
    long = complete_quotes("`" + "x" * 30 + " in…`", lines)
    assert long.endswith(" word…`") and len(long) <= 33 + COMPLETE_MAX + 3 and "'eval'" in long and "`eval" not in long


def test_the_served_cause_quotes_the_whole_log_line_the_model_cut_short():
    excerpt = extract(("$ swift build\n" + "Compiling Kit\n" * 30 + LOG).encode())
    done = finish(("`Kit.swift:97:2: error: @dynamicMemberLookup attribute…` fails the build.", "Add the subscript."),
                  excerpt, [])
    assert done.problem is None
    assert "`Kit.swift:97:2: error: @dynamicMemberLookup attribute requires 'Kit' to have a" in done.cause


def test_the_checks_judge_the_quote_the_model_wrote_not_its_completion():
    excerpt = extract(("$ swift build\nnote: building target AcmeUmbrella from Kit.swift\n" + "Compiling Kit\n" * 30
                       + LOG).encode())
    # What the model quoted names none of the failing lines; the log line it cut short does.
    done = finish(("`note: building target AcmeUmb…` fails.", "Add the subscript."), excerpt, [])
    assert done.problem is not None and "did not name the failing lines" in done.problem
    assert "building target" not in done.cause


def test_a_quoted_code_name_the_log_never_shows_sets_the_cause_aside():
    excerpt = extract(("$ swift build\n" + "Compiling Kit\n" * 30 + LOG).encode())
    invented = finish(("Kit.swift:97 does not compile (cannot find 'schedulePayment' in scope).", "Add the subscript."),
                      excerpt, [])
    assert invented.problem and "named things the log does not show" in invented.problem
    assert "schedulePayment" not in invented.cause
    quoted = finish(("Kit.swift:97 does not compile: '@dynamicMemberLookup' needs 'subscript(dynamicMember:)'.",
                     "Add the subscript."), excerpt, [])
    assert quoted.problem is None  # a name the log shows, quoted, is fine
