"""LocalGenerator on a tiny real model: chat template, JSON answers, thread safety, busy, hot swap."""
import json
import threading

import pytest
from tiny_models import build_tiny_base, tiny_rows, write_jsonl

from retrieval.errors import CibotError
from training.inference.prompt import ANSWER_SCHEMA, build_messages

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return build_tiny_base(tmp_path_factory.mktemp("tiny") / "base")


@pytest.fixture(scope="module")
def tiny_adapter(tiny_base, tmp_path_factory):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.finetune.data import load, to_messages
    from training.finetune.features import encode_chat
    from training.finetune.lora import LoraConfig, train_adapter

    root = tmp_path_factory.mktemp("adapter")
    tok = AutoTokenizer.from_pretrained(str(tiny_base))
    model = AutoModelForCausalLM.from_pretrained(str(tiny_base))
    examples = load([write_jsonl(root / "d.jsonl", tiny_rows(8))]).examples
    features = [encode_chat(tok, to_messages(ex), 256) for ex in examples]
    peft_model, *_ = train_adapter(model, tok, features, LoraConfig(data=[], home=str(root), batch_size=4, max_steps=1, lora_r=4))
    peft_model.save_pretrained(str(root / "v1"))
    return root / "v1"


@pytest.fixture
def generator(tiny_base):
    from training.inference.generate import LocalGenerator

    return LocalGenerator(str(tiny_base), max_new_tokens=12, queue_size=2)


MESSAGES = build_messages(excerpt="npm ERR! code E404 left-pad-3")


def test_generate_applies_the_chat_template_and_counts_tokens(generator):
    from training.base.pretrain import BaseRecipe
    from training.inference.slots import ranges, slot_token, slotted

    gen = generator.generate(MESSAGES)
    assert generator.slots == BaseRecipe().identifier_slots == 20  # the embedded recipe's: it reads <idN>
    rendered = generator.tokenizer.apply_chat_template(slotted(MESSAGES, generator.slots), tokenize=False,
                                                       add_generation_prompt=True)
    assert slot_token(ranges(20)["name"].start) in rendered and "left-pad-3" not in rendered  # the first name slot
    assert gen.prompt_tokens == generator.count_tokens(rendered)
    assert 0 < gen.new_tokens <= 12 and gen.seconds > 0
    assert gen.model.base == generator.base and gen.model.adapter is None


def test_slots_that_stand_for_nothing_in_the_prompt_are_never_written(generator):
    import torch

    from training.inference.decoding import processors
    from training.inference.slots import slot_token

    prompt = generator._prepare(MESSAGES)
    used = set(prompt.slots.ids.values())
    banned = generator._empty_slots(prompt.slots)
    token = generator.tokenizer.convert_tokens_to_ids
    assert used and len(banned) == generator.slots - len(used)
    assert not {token(slot_token(i)) for i in used} & set(banned)
    scores = torch.zeros(1, len(generator.tokenizer))
    scores[0, banned] = 10.0  # the empty slots are the model's favourites
    scores[0, token(slot_token(min(used)))] = 5.0
    picked = processors(1, None, banned)(torch.tensor([[0]]), scores)[0].argmax().item()
    assert picked == token(slot_token(min(used)))  # the best slot that names something
    assert generator._empty_slots(None) == []


def test_text_answers_are_decoded_in_the_root_cause_fix_shape(generator):
    from training.inference.decoding import at_fix_label

    gen = generator.generate(MESSAGES)
    assert gen.meta.get("text_guided") and gen.text.startswith("Root Cause:") and "\nFix:" in gen.text
    assert gen.text.count("Fix:") == 1
    assert at_fix_label("the lock file is stale. Fix:") and at_fix_label("stale\n**Fix**:")
    assert not at_fix_label("run the prefix: fixture") and not at_fix_label("the build needs a fix: pin it")


def test_generation_reports_how_sure_the_model_was(generator):
    import math

    lp = generator.generate(MESSAGES).meta["mean_logprob"]
    # A randomly initialised model is unsure of everything: close to -log(vocabulary size).
    assert -math.log(len(generator.tokenizer)) - 1.0 < lp < -1.0


def test_json_requests_always_return_schema_valid_json(generator):
    gen = generator.generate(MESSAGES, json_schema=ANSWER_SCHEMA)
    obj = json.loads(gen.text)
    assert set(obj) == {"root_cause", "fix"} and all(isinstance(v, str) and v for v in obj.values())


def test_concurrent_requests_all_succeed_one_at_a_time(tiny_base):
    from training.inference.generate import LocalGenerator

    gen = LocalGenerator(str(tiny_base), max_new_tokens=6, queue_size=8)
    results, errors = [], []

    def ask():
        try:
            results.append(gen.generate(MESSAGES).text)
        except Exception as exc:  # noqa: BLE001 - any failure fails the test below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 6
    assert len(set(results)) == 1  # greedy decoding: the same prompt gives the same answer


def test_requests_beyond_the_queue_are_refused_as_busy(tiny_base):
    from training.inference.generate import Busy, LocalGenerator

    gen = LocalGenerator(str(tiny_base), max_new_tokens=4, queue_size=1)
    gen._lock.acquire()  # a request in flight
    waiting = [threading.Thread(target=gen.generate, args=(MESSAGES,)) for _ in range(2)]
    try:
        for t in waiting:
            t.start()
        while gen.queue_depth() < 1:
            pass
        with pytest.raises(Busy, match="busy"):
            gen.generate(MESSAGES)
    finally:
        gen._lock.release()
    for t in waiting:
        t.join()
    assert gen.generate(MESSAGES).new_tokens > 0  # free again


def test_swap_adapter_changes_info_without_failing_in_flight_requests(generator, tiny_adapter):
    done = []
    generator._lock.acquire()
    worker = threading.Thread(target=lambda: done.append(generator.generate(MESSAGES)))
    worker.start()
    swapper = threading.Thread(target=generator.swap_adapter, args=(tiny_adapter, "v1"))
    swapper.start()
    generator._lock.release()
    worker.join()
    swapper.join()
    assert len(done) == 1 and done[0].new_tokens > 0
    assert generator.info().adapter == "v1"
    assert generator.generate(MESSAGES).model.adapter == "v1"
    generator.swap_adapter(tiny_adapter, "v1")  # reloading the active version works too
    generator.swap_adapter(None)
    assert generator.info().adapter is None
    assert generator.generate(MESSAGES).new_tokens > 0


def test_int8_serving_merges_the_adapter_and_a_swap_remerges_while_requests_are_answered(tiny_base, tiny_adapter):
    import torch

    from training.inference.generate import LocalGenerator

    gen = LocalGenerator(str(tiny_base), tiny_adapter, "v1", max_new_tokens=8, quantize="int8")
    assert gen.quantized and gen.info().adapter == "v1"
    quantized = [m for m in gen.model.modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    assert quantized and not any("lora" in name for name, _ in gen.model.named_modules())  # merged
    float_answer = LocalGenerator(str(tiny_base), tiny_adapter, "v1", max_new_tokens=8).generate(MESSAGES).text
    answers, errors = [], []

    def ask():
        try:
            answers.append(gen.generate(MESSAGES))
        except Exception as exc:  # noqa: BLE001 - any failure fails the test below
            errors.append(exc)

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for t in askers:
        t.start()
    gen.swap_adapter(None)  # re-merges off the lock while the askers are answered
    for t in askers:
        t.join()
    assert errors == [] and len(answers) == 4 and all(a.new_tokens > 0 for a in answers)
    assert gen.info().adapter is None and gen.generate(MESSAGES).model.adapter is None
    gen.swap_adapter(tiny_adapter, "v1")
    assert gen.generate(MESSAGES).text.split()[:2] == float_answer.split()[:2]  # int8 keeps the answer's start


def test_serving_form_merges_on_cpu_and_quantises_only_when_asked():
    from training.inference.serving import serving_form

    def model(device: str, size: int):
        class Param:
            class device_:
                type = device

            def numel(self):
                return size

        Param.device = Param.device_

        class Model:
            def parameters(self):
                return iter([Param()])

        return Model()

    assert serving_form(model("cuda", 100_000_000), "auto") == "none"  # a GPU serves bf16 as loaded
    with pytest.raises(CibotError, match="CPU only"):
        serving_form(model("cuda", 100_000_000), "int8")
    assert serving_form(model("cpu", 135_000_000), "auto") == "half"  # int8 is opt-in: it cost quality
    assert serving_form(model("cpu", 135_000_000), "merged") == "merged"
    assert serving_form(model("cuda", 100_000_000), "half") == "none"
    assert serving_form(model("cpu", 4_000_000), "auto") == "none"  # the fixture as peft loads it
    assert serving_form(model("cpu", 4_000_000), "int8") == "int8"


def test_unknown_base_model_is_a_clear_error():
    from training.inference.generate import LocalGenerator

    with pytest.raises(CibotError, match="huggingface-cli download"):
        LocalGenerator("no-such-org/no-such-model")


def test_fixture_base_and_its_adapter_answer_in_the_right_shape(cibot_home):
    from training.base.model import BASE_ASSET, CHECKSUMS
    from training.inference.generate import load_generator
    from training.inference.prompt import parse_answer
    from training.registry import FIXTURE_ADAPTER, AdapterRegistry
    from training.settings import ModelSettings

    assert (BASE_ASSET / CHECKSUMS).is_file() and (FIXTURE_ADAPTER / CHECKSUMS).is_file()
    registry = AdapterRegistry(cibot_home / "adapters")
    assert registry.ensure_default(base="embedded") == "v0001"
    gen = load_generator(ModelSettings(base="embedded", max_new_tokens=48), registry, cibot_home / "models")
    assert gen.info().adapter == "v0001"
    out = gen.generate(build_messages(excerpt="COPY failed: file not found in build context: requirements.txt"))
    assert out.text.startswith("Root Cause:")
    assert parse_answer(out.text + "\nFix: x") is not None


def test_guided_json_is_valid_json_by_construction(generator):
    import json

    from training.inference.prompt import ANSWER_SCHEMA

    gen = generator.generate(build_messages(excerpt="npm ERR! code E404 left-pad-3", fmt="json"), json_schema=ANSWER_SCHEMA)
    obj = json.loads(gen.text)
    assert list(obj) == ["root_cause", "fix"] and gen.meta["json_guided"]
    assert all(isinstance(v, str) and v for v in obj.values())


def test_guided_json_reads_each_string_up_to_its_closing_quote():
    from training.inference.decoding import json_string, string_fields
    from training.inference.prompt import ANSWER_SCHEMA

    assert string_fields(ANSWER_SCHEMA) == ["root_cause", "fix"]
    assert string_fields({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}) == []
    assert json_string('the \\"lib\\" is missing", "fix') == 'the "lib" is missing'
    assert json_string("no closing quote\nnext line") == "no closing quote"


@pytest.mark.parametrize("text, kept", [
    ("Fix the lint at a.go:3. Then re-run the failed job. Then rerun the job. Then re the failed job job.",
     "Fix the lint at a.go:3. Then re-run the failed job."),
    ("Run `bundle update x`. Then rerun the job. Then rerun with the job.",
     "Run `bundle update x`. Then rerun the job."),
    ("Pin node to 18 in .nvmrc. Run npm ci locally. Then rerun the job.",
     "Pin node to 18 in .nvmrc. Run npm ci locally. Then rerun the job."),  # different sentences stay
    ("Add the key to values.yaml. Add the key to values.yaml",
     "Add the key to values.yaml. Add the key to values.yaml"),
])
def test_an_answer_that_goes_round_in_circles_is_cut_where_the_loop_starts(text, kept):
    from training.inference.decoding import repeats, unrepeated

    assert unrepeated(text) == kept  # the last case's copy is unfinished: nothing to cut yet
    assert (repeats(text) >= 0) == (kept != text)


@pytest.mark.parametrize("text, sentence", [
    ("Add the Rakefile, and verify with `rake`. Then push", "Add the Rakefile, and verify with `rake`."),
    ("Pin e.g. requests to 2.31. Then rerun", "Pin e.g. requests to 2.31."),  # "e.g." is no end
    ("Run `make -C src. all` first, then push. Next", "Run `make -C src. all` first, then push."),  # nor is code
    ("Run `npm ci`.", None),  # not known to be finished: the model may go on with the same sentence
    ("1. Run it. 2. Push", None),  # too short to be a sentence
    ("Set the step's timeout to 30. Then rerun", "Set the step's timeout to 30."),  # a number can end one
])
def test_a_fix_ends_with_its_first_whole_sentence(text, sentence):
    from training.inference.decoding import first_sentence

    assert first_sentence(text) == sentence


@pytest.mark.parametrize("text, kept", [
    ("`lein test` fails because the build has no `regex/1.1.0` artifact, so the `core` job fails with `Could not",
     "`lein test` fails because the build has no `regex/1.1.0` artifact, so the `core` job fails"),
    ("`rake` fails with `No Rakefile found (looking for: rakefile, Rakefile, rakefi",  # a long quote is kept
     "`rake` fails with `No Rakefile found (looking for: rakefile, Rakefile,…`"),
    ("the tests cannot import the module named requests which", "the tests cannot import the module named requests"),
    ("tests fail in `foo/bar.py", "tests fail"),  # a half-written name is dropped, and the "in" left
    ("Fix the typo in `ts1136` in the `@types/jasmine` dependency (or remove the typo from",
     "Fix the typo in `ts1136` in the `@types/jasmine` dependency"),  # an aside the cap cut is dropped
    ("Wrap the JSX elements in an enclosing tag (or a tag that is not `<span>`), then rerun",
     "Wrap the JSX elements in an enclosing tag (or a tag that is not `<span>`)"),  # "rerun" what? dropped

    ("`ct_run.test338@travis-job-960ee96d-c7b3", "`ct_run.test338@travis-job-960ee96d-c7b3…`"),  # never empty
])
def test_a_capped_sentence_is_cut_back_to_its_last_whole_clause(text, kept):
    from training.inference.decoding import whole_clauses

    assert whole_clauses(text) == kept


def test_text_answers_are_capped_per_part_and_uncapped_with_zero(tiny_base):
    from training.inference.generate import LocalGenerator

    gen = LocalGenerator(str(tiny_base), max_new_tokens=40)
    gen.cause_tokens, gen.fix_tokens = 3, 4
    capped = gen.generate(MESSAGES)
    assert capped.new_tokens <= 3 + 4 and capped.text.startswith("Root Cause:") and "\nFix:" in capped.text
    gen.cause_tokens = gen.fix_tokens = 0  # a random model never stops on its own: it runs to max_new_tokens
    assert gen.generate(MESSAGES).new_tokens > 3 + 4


def test_a_cause_only_answer_stops_after_the_root_cause(tiny_base):
    from training.inference.generate import LocalGenerator
    from training.inference.prompt import parse_answer

    gen = LocalGenerator(str(tiny_base), max_new_tokens=40)
    gen.cause_tokens, gen.fix_tokens = 3, 4
    whole, cause = gen.generate(MESSAGES), gen.generate(MESSAGES, cause_only=True)
    assert cause.text.endswith("\nFix:") and cause.meta["fix_skipped"] and cause.new_tokens < whole.new_tokens
    assert cause.text.split("\n")[0] == whole.text.split("\n")[0]  # the same cause, greedy
    assert parse_answer(cause.text) is None and parse_answer(cause.text, need_fix=False)[1] == ""


def test_counting_a_long_excerpt_prints_no_length_warning(generator, capfd, caplog):
    text = "error: something long " * 20_000  # far past the model's context
    assert generator.count_tokens(text) > 20_000
    captured = capfd.readouterr()
    assert "Token indices sequence length" not in captured.err + captured.out + caplog.text


def test_half_written_json_does_not_trail_a_labelled_answer():
    from training.inference.prompt import parse_answer

    assert parse_answer('Root Cause: the test failed."}\nFix: rerun the job."}') == ("the test failed.", "rerun the job.")
    assert parse_answer("Root Cause: dict {a} missing.\nFix: add key {b}.") == ("dict {a} missing.", "add key {b}.")


@pytest.mark.parametrize("schema", [None, ANSWER_SCHEMA])
def test_guided_runs_reuse_the_prompts_cache_and_answer_the_same(tiny_base, schema, monkeypatch):
    """The fix (or the next JSON field) starts from the cache of the run before it instead of
    reading the whole prompt again, and the answer is token for token the one without reuse."""
    from training.inference import generate
    from training.inference.generate import LocalGenerator

    gen = LocalGenerator(str(tiny_base), max_new_tokens=24)
    fed: list[int] = []
    gen.model.register_forward_pre_hook(lambda _m, args, kw: fed.append((kw.get("input_ids") if "input_ids" in kw
                                                                          else args[0]).shape[1]), with_kwargs=True)
    reused = gen.generate(MESSAGES, json_schema=schema)
    prompt_len = reused.prompt_tokens
    runs = [n for n in fed if n > 1]  # each run's first forward reads its uncached tokens at once
    assert len(runs) >= 2 and runs[0] >= prompt_len
    assert all(n < prompt_len // 2 for n in runs[1:])

    fed.clear()
    monkeypatch.setattr(generate, "_reusable", lambda prompt, ids: None)
    fresh = gen.generate(MESSAGES, json_schema=schema)
    assert [n for n in fed if n > 1][1] >= prompt_len  # without reuse the second run reads it all again
    assert fresh.text == reused.text and fresh.new_tokens == reused.new_tokens


def test_half_serving_decodes_with_float16_weights_and_reads_prompts_with_the_prefill_copy(tiny_base, tiny_adapter):
    import torch

    from training.inference.generate import LocalGenerator
    from training.inference.serving import DECODE_ROWS, half_linear_class

    linear = torch.nn.Linear(64, 32)
    half = half_linear_class()(linear, torch.bfloat16)
    assert half.decode_weight.dtype == torch.float16 and half.prefill_weight.dtype == torch.bfloat16
    used = []
    torch_linear = torch.nn.functional.linear
    try:
        torch.nn.functional.linear = lambda x, w, *a: used.append(w.dtype) or torch_linear(x, w, *a)
        one, many = torch.randn(1, 1, 64), torch.randn(1, DECODE_ROWS + 1, 64)
        out_one, out_many = half(one), half(many)
    finally:
        torch.nn.functional.linear = torch_linear
    assert used == [torch.float16, torch.bfloat16]
    assert out_one.dtype == torch.float32 and torch.allclose(out_one, linear(one), atol=2e-2)
    assert torch.allclose(out_many, linear(many), atol=5e-2)

    gen = LocalGenerator(str(tiny_base), tiny_adapter, "v1", max_new_tokens=8, quantize="half")
    assert gen.form == "half" and gen._float_base is not None
    assert any(isinstance(m, half_linear_class()) for m in gen.model.modules())
    assert not any("lora" in name for name, _ in gen.model.named_modules())  # merged
    float_answer = LocalGenerator(str(tiny_base), tiny_adapter, "v1", max_new_tokens=8).generate(MESSAGES).text
    assert gen.generate(MESSAGES).text.split()[:2] == float_answer.split()[:2]
    gen.swap_adapter(None)  # re-merged in the same form
    assert gen.info().adapter is None and any(isinstance(m, half_linear_class()) for m in gen.model.modules())


def test_a_part_cannot_end_before_it_says_anything():
    import torch

    from training.inference.decoding import processors

    procs = processors(prompt_len=5, opening=([7, 9], 2))
    scores = torch.zeros(1, 12)
    scores[0, 7] = 5.0  # the model's favourite: a line break
    first = procs(torch.zeros(1, 5, dtype=torch.long), scores.clone())
    assert int(first.argmax()) != 7 and first[0, 9] == float("-inf")
    later = procs(torch.zeros(1, 7, dtype=torch.long), scores.clone())  # two tokens in: free again
    assert int(later.argmax()) == 7
