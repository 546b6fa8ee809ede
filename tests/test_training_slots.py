"""Identifier slots: delexicalised prompts and answers for models too small to copy names."""
import pytest

from training.inference.prompt import build_messages
from training.inference.slots import (
    SlotMap,
    build_map,
    delexicalise,
    kind,
    model_slots,
    ranges,
    slot_token,
    slot_tokens,
    slotted,
)

LOG = """Prepare all required actions
Downloading https://example.com/setup.sh using /usr/bin/curl
Error: Unable to resolve action `actions/cache@main2`, unable to find version `main2`
##[error]Process completed with exit code 1."""


def test_each_kind_has_its_range_and_the_failing_lines_come_first_in_it():
    messages = build_messages(excerpt=LOG, context=[{"title": "Pin actions", "text": "See .github/actions-lock.yml"}])
    names = build_map(messages[1]["content"], 20)
    assert ranges(20) == {"file": range(1, 5), "name": range(5, 12), "value": range(12, 15), "code": range(15, 17),
                          "number": range(17, 21)}
    assert names.ids["actions/cache@main2"] == 5  # the first name: it is on the failing line
    assert names.ids["main2"] == 6
    assert names.ids["/usr/bin/curl"] == 1 and names.ids[".github/actions-lock.yml"] == 2  # notes after the log
    assert names.ids["https://example.com/setup.sh"] == 12


@pytest.mark.parametrize("word, expected", [
    ("src/main.rs:185", "file"), ("build/libs/*.jar", "file"), ("/usr/bin/bash", "file"), ("requirements.txt", "file"),
    ("E0599", "code"), ("CS1061", "code"), ("4.15.10", "value"), ("https://x.org/a", "value"), ("idna==3.7", "value"),
    ("tests::fetch_export", "name"), ("actions/setup-python@v5.9", "name"), ("node:18-alpine3.15", "name"),
    ("symfony/console", "name"), ("ENOSPC", "code"), ("EBADENGINE", "code"), (">=3.10", "value"), ("~=2.1", "value"),
    ("60402c0a-f45f-3049-0100-df9ebb587472", "value"),
])
def test_identifiers_are_sorted_into_kinds(word, expected):
    assert kind(word) == expected


def test_a_full_range_leaves_the_rest_of_that_kind_as_written():
    names = SlotMap(20)
    for i in range(7):
        names.add(f"src/m{i}.py")
    names.add("E0599")
    assert sorted(names.ids.values()) == [1, 2, 3, 4, 15]
    assert names.apply("see src/m6.py") == "see src/m6.py"


def test_quoted_names_missing_commands_and_test_titles_get_name_slots():
    log = ("Log:\nPG::DuplicateTable: ERROR:  relation \"quotas\" already exists\n"
           "/usr/bin/bash: line 1: tox: command not found\n"
           "  ● CouponService › creates account in parallel\n")
    names = build_map(log, 20)
    assert {"quotas", "tox", "creates account in parallel"} <= set(names.ids)
    answer = "Table quotas exists; tox is missing; creates account in parallel is flaky; quotas_v2 is not it."
    slotted_answer = names.apply(answer)
    assert "quotas " not in slotted_answer and "tox" not in slotted_answer and "parallel" not in slotted_answer
    assert "quotas_v2" in slotted_answer  # a term matches whole words only
    assert names.restore(slotted_answer) == answer


def test_a_short_name_finds_the_most_salient_slot_of_its_file_but_not_of_two_files():
    names = SlotMap(20)
    for word in ("e2e/cart.spec.ts:374", "e2e/cart.spec.ts:378", "a/util.py", "b/util.py"):
        names.add(word)
    assert names.apply("in e2e/cart.spec.ts and cart.spec.ts") == "in <id1> and <id1>"
    assert names.apply("util.py") == "util.py"


def test_answer_uses_the_prompts_slots_and_restores_to_the_names():
    answer = "Root Cause: the workflow references actions/cache@main2. Fix: pin actions/cache to a tag."
    out, names = delexicalise([
        {"role": "system", "content": "Name actions/cache@main2 exactly."},
        {"role": "user", "content": build_messages(excerpt=LOG)[1]["content"]},
        {"role": "assistant", "content": answer},
    ], 20)
    assert out[0]["content"] == "Name actions/cache@main2 exactly."  # the system prompt is never slotted
    assert "actions/cache@main2" not in out[1]["content"] and slot_token(ranges(20)["name"].start) in out[1]["content"]
    assert out[2]["content"].startswith(f"Root Cause: the workflow references {slot_token(ranges(20)['name'].start)}.")
    assert names.restore(out[2]["content"]) == answer


def test_specifiers_error_codes_and_lock_ids_get_slots_and_placeholders_do_not():
    log = ("ERROR: Package 'audit-log' requires a different Python: 3.8.18 not in '>=3.10'\n"
           "npm ERR! code ENOSPC\n"
           "Lock Info: ID: 60402c0a-f45f-3049-0100-df9ebb587472\n"
           "export NPM_TOKEN=[REDACTED:npm-token]")
    names = build_map(build_messages(excerpt=log)[1]["content"], 20)
    assert ">=3.10" in names.ids and "ENOSPC" in names.ids and "60402c0a-f45f-3049-0100-df9ebb587472" in names.ids
    assert names.apply("requires-python >=3.10, not 3.8.18") == (
        f"requires-python {slot_token(names.ids['>=3.10'])}, not {slot_token(names.ids['3.8.18'])}")
    assert not any("REDACTED" in word for word in names.ids)


def test_base_names_and_line_suffixes_find_the_full_paths_slot():
    names = SlotMap(8)
    names.add("src/main/java/com/acme/Parser.java")
    assert names.apply("Parser.java:262 has an error") == "<id1>:262 has an error"
    assert names.restore("<id1>:262") == "src/main/java/com/acme/Parser.java:262"


def test_unknown_slots_vanish_and_the_map_is_bounded():
    names = SlotMap(2)
    for word in ("a/b.py", "c/d.py", "e/f.py"):
        names.add(word)
    assert names.ids == {"a/b.py": 1, "c/d.py": 2}
    assert names.restore("see <id2> and <id9>") == "see c/d.py and "


def test_models_without_slots_see_their_prompts_unchanged():
    class Config:
        identifier_slots = 16

    class Model:
        config = Config()

    messages = build_messages(excerpt=LOG)
    assert model_slots(Model()) == 16
    assert model_slots(object()) == 0
    assert slotted(messages, 0) is messages
    assert slotted(messages, 20) != messages


def test_slot_tokens_are_whole_tokens_that_decoding_keeps():
    from training.base.tokenizer import train_tokenizer

    tok = train_tokenizer(["npm ERR! missing script: build\n" * 20, "cannot find <id1> in <id2>"], 300, slot_tokens(4))
    ids = tok("see <id3> now", add_special_tokens=False)["input_ids"]
    assert tok.convert_tokens_to_ids("<id3>") in ids
    assert tok.decode(ids, skip_special_tokens=True) == "see <id3> now"


def test_names_joined_or_trimmed_in_the_answer_still_find_their_slots():
    names = build_map("Log:\nwebhook_codec_tests: refresh_audit_test...*failed*\nReportParserIT > resolveTenantConcurrently() FAILED", 20)
    assert {"webhook_codec_tests", "refresh_audit_test", "ReportParserIT", "resolveTenantConcurrently"} <= set(names.ids)
    slotted_answer = names.apply("webhook_codec_tests:refresh_audit_test and ReportParserIT.resolveTenantConcurrently fail")
    assert "_test" not in slotted_answer and "Concurrently" not in slotted_answer
    assert names.restore(slotted_answer) == "webhook_codec_tests:refresh_audit_test and ReportParserIT.resolveTenantConcurrently fail"


def test_scoped_packages_account_ids_and_long_numbers_are_identifiers():
    names = build_map("Log:\nerror @typescript-eslint/no-explicit-any in src/a.ts\n"
                      "pull 703804907524.dkr.ecr.us-east-1.amazonaws.com/acme/api denied\nmigration 20241023370148 failed", 20)
    assert {"@typescript-eslint/no-explicit-any", "703804907524.dkr.ecr.us-east-1.amazonaws.com/acme/api",
            "20241023370148"} <= set(names.ids)
    assert "exit" not in names.ids and "denied" not in names.ids


def test_identifiers_every_log_repeats_are_read_as_text_not_slotted():
    from training.inference.slots import common_ids, find_common

    rows = [{"input": f"/usr/bin/bash run src/f{i}.py", "output": f"Root Cause: src/f{i}.py fails."} for i in range(20)]
    rows.append({"input": "x", "output": "y", "key_ids": ["src/f0.py"]})
    assert find_common(rows) == ["/usr/bin/bash"]  # shared by 20 rows; each src/fN.py by one
    assert find_common(rows, min_rows=30) == []
    assert "/usr/bin/bash" in common_ids()  # the shipped list, from the starter corpus
    names = build_map("Log:\n/usr/bin/bash: line 1: tox: command not found", 20)
    assert "/usr/bin/bash" not in names.ids and "tox" in names.ids


def test_a_failing_lines_line_number_and_trailing_name_get_slots():
    names = build_map("Log:\nERROR: failed to solve: dockerfile parse error on line 35: unknown instruction: RUNN", 20)
    assert names.ids["35"] in ranges(20)["number"] and names.ids["RUNN"] in ranges(20)["name"]
    assert names.restore(names.apply("The parse fails at line 35: RUNN is not an instruction.")) == \
        "The parse fails at line 35: RUNN is not an instruction."
    assert "RUNN" not in names.apply("RUNN at line 35") and "35" not in names.apply("RUNN at line 35")


def test_the_shipped_common_list_is_the_one_the_corpus_gives():
    import json

    from training.inference.slots import COMMON_IDS, common_ids, find_common

    train = COMMON_IDS.parent / "train.jsonl"
    rows = [json.loads(line) for line in train.read_text().splitlines() if line.strip()]
    assert common_ids() == frozenset(find_common(rows)), "rerun: cibot dev slots --common"


@pytest.mark.parametrize("size", range(8, 21))
def test_every_kind_keeps_a_slot_at_any_size(size):
    spans = ranges(size)
    assert all(len(r) >= 1 for r in spans.values()) and max(r.stop for r in spans.values()) == size + 1


def test_files_with_versions_in_their_names_are_files_and_zsh_names_the_command():
    assert kind("v1/api/users.py") == "file" and kind("20240101_add_users.rb") == "file"
    assert kind("https://x.org/a.json") == "value"
    assert set(build_map("Log:\nzsh: command not found: tox", 20).ids) == {"tox"}
    names = build_map("Log:\n/bin/sh: 1: tox: not found", 20)
    assert "tox" in names.ids and names.apply("edit tox.ini") == "edit tox.ini"  # a term is a whole name


def test_bare_numbers_on_failing_lines_get_number_slots_but_not_parts_of_paths_versions_or_times():
    log = ("Log:\n2024-04-10T00:19:20.4101730Z FAIL Required test coverage of 80% not reached. Total: 78.78%\n"
           "E   psycopg2.OperationalError: connection to server at \"localhost\", port 5432 failed\n"
           "ERROR: connect ECONNREFUSED 127.0.0.1:6379 at src/db.py:77 after 30m0s\n"
           "##[error]Process completed with exit code 2.\n"
           "Downloading 3 packages from the mirror\n")
    names = build_map(log, 20)
    numbers = {w for w, i in names.ids.items() if i in ranges(20)["number"]}
    assert numbers == {"80", "5432", "2"}  # not 2024, 19, 6379, 77, 30, 78, nor 3 of a quiet line
    answer = "Coverage of 80% is under the gate; port 5432 refused; exit code 2 (not 127.0.0.1:6379 or 1802)."
    slotted_answer = names.apply(answer)
    assert "80%" not in slotted_answer and "5432" not in slotted_answer and "code 2 " not in slotted_answer
    assert "1802" in slotted_answer and names.restore(slotted_answer) == answer
