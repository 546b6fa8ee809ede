"""Identifier slots: delexicalised prompts and answers for models too small to copy names."""
from training.prompt import build_messages
from training.slots import SlotMap, build_map, delexicalise, model_slots, slot_tokens, slotted

LOG = """Prepare all required actions
Downloading https://example.com/setup.sh using /usr/bin/curl
Error: Unable to resolve action `actions/cache@main2`, unable to find version `main2`
##[error]Process completed with exit code 1."""


def test_the_failing_lines_identifiers_get_the_first_slots():
    messages = build_messages(excerpt=LOG, context=[{"title": "Pin actions", "text": "See .github/actions-lock.yml"}])
    names = build_map(messages[1]["content"], 16)
    assert names.ids["actions/cache@main2"] == 1
    assert names.ids["main2"] == 2
    assert names.ids[".github/actions-lock.yml"] > names.ids["/usr/bin/curl"]  # notes after the log


def test_answer_uses_the_prompts_slots_and_restores_to_the_names():
    answer = "Root Cause: the workflow references actions/cache@main2. Fix: pin actions/cache to a tag."
    out, names = delexicalise([
        {"role": "system", "content": "Name actions/cache@main2 exactly."},
        {"role": "user", "content": build_messages(excerpt=LOG)[1]["content"]},
        {"role": "assistant", "content": answer},
    ], 16)
    assert out[0]["content"] == "Name actions/cache@main2 exactly."  # the system prompt is never slotted
    assert "actions/cache@main2" not in out[1]["content"] and "<id1>" in out[1]["content"]
    assert out[2]["content"].startswith("Root Cause: the workflow references <id1>.")
    assert names.restore(out[2]["content"]) == answer


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
    assert slotted(messages, 16) != messages


def test_slot_tokens_are_whole_tokens_that_decoding_keeps():
    from training.tokenizer import train_tokenizer

    tok = train_tokenizer(["npm ERR! missing script: build\n" * 20, "cannot find <id1> in <id2>"], 300, slot_tokens(4))
    ids = tok("see <id3> now", add_special_tokens=False)["input_ids"]
    assert tok.convert_tokens_to_ids("<id3>") in ids
    assert tok.decode(ids, skip_special_tokens=True) == "see <id3> now"


def test_names_joined_or_trimmed_in_the_answer_still_find_their_slots():
    names = build_map("Log:\nwebhook_codec_tests: refresh_audit_test...*failed*\nReportParserIT > resolveTenantConcurrently() FAILED", 16)
    assert {"webhook_codec_tests", "refresh_audit_test", "ReportParserIT", "resolveTenantConcurrently"} <= set(names.ids)
    slotted_answer = names.apply("webhook_codec_tests:refresh_audit_test and ReportParserIT.resolveTenantConcurrently fail")
    assert "_test" not in slotted_answer and "Concurrently" not in slotted_answer
    assert names.restore(slotted_answer) == "webhook_codec_tests:refresh_audit_test and ReportParserIT.resolveTenantConcurrently fail"


def test_scoped_packages_account_ids_and_long_numbers_are_identifiers():
    names = build_map("Log:\nerror @typescript-eslint/no-explicit-any in src/a.ts\n"
                      "pull 703804907524.dkr.ecr.us-east-1.amazonaws.com/acme/api denied\nmigration 20241023370148 failed", 16)
    assert {"@typescript-eslint/no-explicit-any", "703804907524.dkr.ecr.us-east-1.amazonaws.com/acme/api",
            "20241023370148"} <= set(names.ids)
    assert "exit" not in names.ids and "denied" not in names.ids
