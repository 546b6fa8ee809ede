"""The retrain job with a real store and a real adapter registry; training and scoring are small
written fakes here (the real subprocess trainer is exercised in the slow tests)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from needs import missing

from bot.engine.answer import Answer
from bot.learning.retrain import LOCK, Retrainer, format_report
from bot.settings import load_settings
from bot.store import Store
from training.registry import AdapterRegistry


def seed(store: Store, n: int, value: int = 1, prefix: str = "a", reason: str | None = None) -> list[str]:
    ids = []
    for i in range(n):
        answer = Answer(route="finetune", root_cause=f"Cause {prefix}{i}: token=ghp_{'x' * 36} leaked",
                        fix=f"Fix {prefix}{i}.", model={"base": "embedded", "adapter": "v0001"},
                        category="docker")
        aid = store.save_answer(request_key=f"{prefix}{i}", answer=answer, question="why?",
                                excerpt=f"error {prefix}{i}: pull access denied", channel="C1", thread_ts="1")
        store.vote(aid, "U1", value)
        if reason:
            store.set_vote_reason(aid, "U1", reason, "not it")
        ids.append(aid)
    return ids


def stage_version(registry: AdapterRegistry, quality: float) -> str:
    with registry.staging() as stage:
        (stage.path / "adapter_config.json").write_text("{}")
        (stage.path / "adapter_model.safetensors").write_bytes(b"weights")
        stage.meta["quality"] = quality
    return stage.version


class FakeTrainer:
    """Registers a candidate whose (fake) quality the FakeEvaluator reports back."""

    def __init__(self, registry, quality):
        self.registry, self.quality, self.jobs = registry, quality, []

    def __call__(self, job, heartbeat):
        heartbeat()
        self.jobs.append(job)
        return stage_version(self.registry, self.quality)


class FakeEvaluator:
    def __init__(self, registry):
        self.registry, self.calls = registry, []

    def __call__(self, current, candidate, heldout):
        self.calls.append((current, candidate, len(heldout)))

        def scores(v):
            q = self.registry.meta(v)["quality"] if v else 0.0
            return {"heldout": {"format_compliance": q, "n": 50}, "feedback": {"id_recall": q}}

        return {"current": scores(current), "candidate": scores(candidate)}


@pytest.fixture
def env(cibot_home, tmp_path):
    settings = load_settings(scheduler={"min_new_examples": 5, "gate_margin": 0.02, "holdout_fraction": 0.2})
    store = Store.open(settings.store_url)
    registry = AdapterRegistry(settings.paths.adapters)
    registry.promote(stage_version(registry, 0.80))
    starter = tmp_path / "starter.jsonl"
    starter.write_text("".join(json.dumps({"input": f"log {i}", "output": f"Root Cause: r{i}\nFix: f{i}"}) + "\n"
                               for i in range(3)))
    yield settings, store, registry, starter
    store.close()


def make(env, quality, posted=None):
    settings, store, registry, starter = env
    trainer = FakeTrainer(registry, quality)
    return Retrainer(settings, store, registry, trainer, FakeEvaluator(registry),
                     post=posted.append if posted is not None else None, starter=starter), trainer


def test_skips_until_enough_new_thumbs_up_examples(env):
    _, store, registry, _ = env
    seed(store, 4)
    retrainer, trainer = make(env, 0.9)
    result = retrainer.run()
    assert (result.ran, result.promoted) == (False, False)
    assert "4 new thumbs-up example(s)" in result.reason and "5 needed" in result.reason
    assert trainer.jobs == []
    seed(store, 1, prefix="b")
    assert retrainer.run().promoted is True


def test_now_ignores_the_threshold_and_new_examples_count_from_the_last_run(env):
    _, store, registry, _ = env
    seed(store, 2)
    retrainer, _ = make(env, 0.9)
    assert retrainer.run(force=True).promoted
    seed(store, 4, prefix="b")
    assert "4 new" in retrainer.run().reason


def test_better_candidate_is_promoted_and_reported(env):
    settings, store, registry, _ = env
    seed(store, 10)
    posted: list[str] = []
    retrainer, _ = make(env, 0.9, posted)
    before = registry.current()
    result = retrainer.run()
    assert result.ran and result.promoted
    assert registry.current() == result.candidate != before
    assert result.metrics["current"]["heldout"]["format_compliance"] == 0.8
    assert result.metrics["candidate"]["heldout"]["format_compliance"] == 0.9
    report = json.loads(Path(result.report).read_text())
    assert report["promoted"] is True and report["metrics"] == result.metrics
    assert store.last_run().status == "promoted"
    assert "promoted" in posted[0] and "0.800 -> 0.900" in posted[0]


def test_gate_rejects_a_worse_candidate_and_current_is_unchanged(env):
    _, store, registry, _ = env
    seed(store, 10)
    before = registry.current()
    posted: list[str] = []
    retrainer, _ = make(env, 0.70, posted)
    result = retrainer.run()
    assert result.ran and not result.promoted
    assert registry.current() == before
    assert result.candidate in registry.versions()  # kept for inspection, not served
    assert "heldout.format_compliance 0.8 -> 0.7" in result.reason
    assert store.last_run().status == "rejected"
    assert "rejected" in posted[0]


def test_small_drop_within_the_margin_still_promotes(env):
    _, store, registry, _ = env
    seed(store, 10)
    retrainer, _ = make(env, 0.79)
    assert retrainer.run().promoted


def test_training_set_excludes_thumbs_down_holds_out_recent_and_is_redacted(env):
    _, store, registry, starter = env
    seed(store, 10)
    bad = seed(store, 2, value=-1, prefix="bad", reason="wrong_cause")
    retrainer, trainer = make(env, 0.9)
    result = retrainer.run()
    job = trainer.jobs[0]
    rows = [json.loads(line) for line in job.train_file.read_text().splitlines()]
    held = [json.loads(line) for line in job.heldout_file.read_text().splitlines()]
    assert len(rows) == 3 + 8 and len(held) == 2
    assert {r["id"] for r in held} == {"feedback-" + a for a in _ids(store, ["a8", "a9"])}
    assert not any("bad" in r.get("input", "") for r in rows + held)
    assert not any("ghp_" in r["output"] for r in rows + held)
    assert sorted(r["answer_id"] for r in result.review) == sorted(bad)
    assert result.review[0]["reasons"][0]["reason"] == "wrong_cause"
    assert "for review" in format_report(result)


def _ids(store, keys):
    return [store._answer_id_for(k) for k in keys]


def test_dry_run_trains_nothing(env):
    _, store, registry, _ = env
    seed(store, 10)
    retrainer, trainer = make(env, 0.9)
    result = retrainer.run(dry_run=True)
    assert not result.ran and "dry run" in result.reason and result.data["feedback_heldout"] == 2
    assert trainer.jobs == [] and store.last_run() is None


def test_single_flight_a_second_replica_skips_while_the_lock_is_held(env):
    settings, store, registry, starter = env
    seed(store, 10)
    assert store.acquire_lock(LOCK, "other-replica", ttl_s=60)
    retrainer, trainer = make(env, 0.9)
    result = retrainer.run()
    assert not result.ran and "another retrain is running (other-replica" in result.reason
    assert trainer.jobs == []


def test_a_failing_trainer_is_recorded_and_releases_the_lock(env):
    settings, store, registry, starter = env
    seed(store, 10)

    def broken(job, heartbeat):
        raise RuntimeError("CUDA out of memory")

    before = registry.current()
    result = Retrainer(settings, store, registry, broken, FakeEvaluator(registry), starter=starter).run()
    assert result.ran and not result.promoted and "CUDA out of memory" in result.reason
    assert store.last_run(("failed",)).status == "failed"
    assert registry.current() == before and store.lock_holder(LOCK) is None


KILLED_RUN = textwrap.dedent("""
    import sys, time
    from bot.settings import load_settings
    from bot.store import Store
    from bot.learning.retrain import Retrainer
    from training.registry import AdapterRegistry
    settings = load_settings(scheduler={"min_new_examples": 1, "lock_ttl_s": 5})
    store = Store.open(settings.store_url)
    registry = AdapterRegistry(settings.paths.adapters)

    def trainer(job, heartbeat):
        with registry.staging() as stage:  # killed half-way through writing a candidate
            (stage.path / "adapter_config.json").write_text("{}")
            print("TRAINING", flush=True)
            time.sleep(60)
        return stage.version

    Retrainer(settings, store, registry, trainer, lambda *a: {}, starter=__import__("pathlib").Path(sys.argv[1])).run()
""")


@pytest.mark.integration
def test_killed_retrain_leaves_current_untouched_and_the_next_run_works(env, cibot_home):
    settings, store, registry, starter = env
    seed(store, 10)
    before = registry.current()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(starter)], stdout=subprocess.PIPE,
                            env={**os.environ, "CIBOT_HOME": str(cibot_home)}, text=True)
    try:
        assert proc.stdout.readline().strip() == "TRAINING"
        assert store.lock_holder(LOCK) is not None  # the killed run held the lease
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert registry.current() == before and registry.versions() == [before]
    assert store.last_run(("running",)) is not None
    retrainer, _ = make(env, 0.9)
    assert "another retrain is running" in retrainer.run().reason
    deadline = time.monotonic() + 10
    while store.lock_holder(LOCK)[1].timestamp() > time.time() and time.monotonic() < deadline:
        time.sleep(0.25)
    result = retrainer.run()
    assert result.promoted and registry.current() == result.candidate
    statuses = [r.status for r in store.runs()]
    assert statuses == ["promoted", "failed"]


def test_cli_retrain_json_contract_when_there_is_nothing_to_do(cibot_home, capsys):
    from bot.cli import main

    assert main(["retrain", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"ran", "reason", "candidate", "metrics", "promoted"} <= set(out)
    assert out["ran"] is False and out["promoted"] is False and out["metrics"] == {"current": {}, "candidate": {}}
    assert "needed" in out["reason"]


def test_cli_retrain_dry_run_lists_what_it_would_use(env, capsys):
    from bot.cli import main

    _, store, _, _ = env
    seed(store, 6)
    seed(store, 1, value=-1, prefix="bad", reason="incomplete")
    assert main(["retrain", "--now", "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ran"] is False and "dry run" in out["reason"]
    assert out["data"]["feedback_train"] + out["data"]["feedback_heldout"] == 6
    assert out["review"][0]["reasons"][0]["reason"] == "incomplete"


class SwappingGenerator:
    """The part of LocalGenerator the watcher drives: info() and swap_adapter()."""

    base = "embedded"

    def __init__(self, adapter=None):
        from training.inference.types import ModelInfo

        self._info = ModelInfo
        self.adapter, self.swaps = adapter, []

    def info(self):
        return self._info(base=self.base, adapter=self.adapter)

    def swap_adapter(self, adapter_dir, version=None):
        assert (Path(adapter_dir) / "adapter_config.json").is_file()
        self.swaps.append(version)
        self.adapter = version


def test_watcher_hot_swaps_on_promotion_and_rollback(env):
    from bot.learning.hotswap import AdapterWatcher

    _, _, registry, _ = env
    first = registry.current()
    gen = SwappingGenerator(first)
    watcher = AdapterWatcher(registry, gen, interval_s=0.05)
    assert watcher.check() is None
    second = stage_version(registry, 0.9)
    registry.promote(second)
    watcher.start()
    try:
        deadline = time.monotonic() + 5
        while gen.adapter != second and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gen.adapter == second
        registry.rollback()
        while gen.adapter != first and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gen.swaps == [second, first]
    finally:
        watcher.stop()


def test_watcher_refuses_a_corrupt_adapter_and_keeps_serving(env):
    from bot.learning.hotswap import AdapterWatcher

    _, _, registry, _ = env
    first = registry.current()
    gen = SwappingGenerator(first)
    bad = stage_version(registry, 0.9)
    registry.promote(bad)
    (registry.path(bad) / "adapter_model.safetensors").write_bytes(b"truncated")
    watcher = AdapterWatcher(registry, gen)
    assert watcher.check() is None and watcher.check() is None
    assert gen.adapter == first and gen.swaps == [] and bad in watcher.refused


FAKE_LORA = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from training.registry import AdapterRegistry
    cfg = json.loads(Path(sys.argv[sys.argv.index("--config") + 1]).read_text())
    rows = [json.loads(l) for l in Path(cfg["data"][0]).read_text().splitlines()]
    print(f"training on {len(rows)}", file=sys.stderr)
    if cfg.get("max_steps") == 99:
        time.sleep(60)
    if cfg.get("max_steps") == 13:
        sys.exit("loss is nan")
    with AdapterRegistry(Path(cfg["home"]) / "adapters").staging() as stage:
        (stage.path / "adapter_config.json").write_text("{}")
        stage.meta.update(quality=0.9, base=cfg["base"], **cfg["extra_meta"])
    print(json.dumps({"version": stage.version, "train_examples": len(rows)}))
""")


def test_subprocess_trainer_runs_the_child_and_reads_its_version(env, tmp_path):
    from bot.learning.trainer import SubprocessTrainer

    settings, store, registry, starter = env
    seed(store, 10)
    script = tmp_path / "fake_lora.py"
    script.write_text(FAKE_LORA)
    trainer = SubprocessTrainer(settings, command=[sys.executable, str(script)])
    result = Retrainer(settings, store, registry, trainer, FakeEvaluator(registry), starter=starter).run()
    assert result.promoted and registry.meta(result.candidate)["retrain_run"] == result.run_id
    log = Path(result.report).parent / "runs" / f"run-{result.run_id:04d}" / "train.log"
    assert "training on 11" in log.read_text()
    seed(store, 10, prefix="b")
    failing = SubprocessTrainer(settings, {"max_steps": 13}, command=[sys.executable, str(script)])
    result = Retrainer(settings, store, registry, failing, FakeEvaluator(registry), starter=starter).run()
    assert not result.promoted and "training exited with status 1" in result.reason
    assert "loss is nan" in result.reason


def _embedded_base_or_skip():
    from training.base.model import BASE_ASSET

    if not (BASE_ASSET / "SHA256SUMS.txt").is_file():
        missing("the embedded base model (training/assets/base) is not built (cibot train base)")


@pytest.mark.slow
def test_real_retrain_end_to_end_with_the_embedded_model(cibot_home):
    """Real subprocess LoRA training for a couple of steps, real gate scoring of both adapters."""
    _embedded_base_or_skip()
    from bot.learning.trainer import build_retrainer

    settings = load_settings(
        scheduler={"min_new_examples": 4, "eval_limit": 3, "eval_suites": ["heldout"], "gate_margin": 1.0},
        model={"max_new_tokens": 24}, train={"max_seq_len": 256, "batch_size": 4},
    )
    retrainer = build_retrainer(settings, train_overrides={"max_steps": 2}, starter_limit=8)
    seed(retrainer.store, 5)
    before = retrainer.registry.current()
    result = retrainer.run()
    retrainer.store.close()
    assert result.ran, result.reason
    assert result.candidate in retrainer.registry.versions()
    for side in ("current", "candidate"):
        assert set(result.metrics[side]) == {"heldout", "feedback"}
        assert result.metrics[side]["heldout"]["n"] == 3
    # Two steps teach the tiny model little; whichever way the gate went, current must follow it.
    assert result.gate is not None and result.reason
    assert retrainer.registry.current() == (result.candidate if result.promoted else before)
    assert retrainer.store.last_run().status == ("promoted" if result.promoted else "rejected")
    assert retrainer.registry.meta(result.candidate)["retrain_run"] == result.run_id


def _tiny_adapter(registry, settings, seed: int) -> str:
    """A real (untrained) LoRA adapter on the embedded base, written through the registry."""
    import torch
    from peft import LoraConfig, get_peft_model

    from training.base.model import load_causal_lm

    torch.manual_seed(seed)
    model, _, _ = load_causal_lm("embedded", settings.paths.models, device="cpu")
    model = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    with registry.staging() as stage:
        model.save_pretrained(str(stage.path))
        stage.meta["base"] = "embedded"
    return stage.version


@pytest.mark.slow
def test_watcher_hot_swaps_a_real_generator_without_failing_requests(env, cibot_home):
    _embedded_base_or_skip()
    import threading as th

    from bot.learning.hotswap import AdapterWatcher
    from training.inference.generate import LocalGenerator
    from training.inference.prompt import build_messages

    settings = env[0]
    registry = AdapterRegistry(settings.paths.adapters)
    versions = [_tiny_adapter(registry, settings, seed=i) for i in range(2)]
    registry.promote(versions[0])
    gen = LocalGenerator("embedded", registry.path(versions[0]), versions[0], device="cpu",
                         models_dir=settings.paths.models, max_new_tokens=8)
    watcher = AdapterWatcher(registry, gen, interval_s=0.05).start()
    errors, seen = [], set()
    stop = th.Event()

    def ask():
        messages = build_messages(excerpt="npm ERR! code E404", question=None, context=None, fmt="text")
        while not stop.is_set():
            try:
                seen.add(gen.generate(messages).model.adapter)
            except Exception as exc:  # any failure in flight is the bug this test is for
                errors.append(exc)

    workers = [th.Thread(target=ask) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        time.sleep(0.5)
        registry.promote(versions[1])
        deadline = time.monotonic() + 20
        while gen.info().adapter != versions[1] and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop.set()
        for w in workers:
            w.join()
        watcher.stop()
    assert errors == []
    assert gen.info().adapter == versions[1] and versions[1] in seen


def test_a_run_killed_right_after_promoting_is_recorded_as_promoted(env):
    _, store, registry, _ = env
    seed(store, 10)
    run_id = store.start_run(registry.current(), datetime_now())
    promoted = stage_version(registry, 0.9)
    store.set_run_candidate(run_id, promoted)
    registry.promote(promoted)  # ... and the process died here
    retrainer, _ = make(env, 0.95)
    assert retrainer.run(force=True).promoted
    first = [r for r in store.runs() if r.run_id == run_id][0]
    assert first.status == "promoted" and "ended before recording" in first.reason


def datetime_now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def test_gate_refuses_a_candidate_that_scores_zero_everywhere():
    from bot.learning.gate import decide

    zero = {"heldout": {"format_compliance": 0.0, "id_recall": 0.0, "n": 10}}
    assert decide(zero, zero, 0.1).promote is False
    assert "zero on every gated metric" in decide(zero, zero, 0.1).reason
    some = {"heldout": {"format_compliance": 0.2, "id_recall": 0.0, "n": 10}}
    assert decide(zero, some, 0.1).promote is True
    assert decide(some, zero, 0.1).drops[0]["metric"] == "format_compliance"
    assert decide(some, {"heldout": {"format_compliance": 0.5}}, 0.1, gated=["heldout.id_recall"]).promote is False


def test_the_replay_sample_takes_an_equal_share_of_each_starter_file(tmp_path):
    from bot.learning.retrain import _read_lines

    big, small = tmp_path / "synthetic.jsonl", tmp_path / "real.jsonl"
    big.write_text("".join(f'{{"n": "s{i}"}}\n' for i in range(700)))
    small.write_text("".join(f'{{"n": "r{i}"}}\n' for i in range(100)))

    picked = _read_lines((big, small), 160)
    assert len(picked) == len(set(picked)) == 160
    assert sum('"r' in line for line in picked) == 80  # in proportion it would have been 20
    # a file shorter than its share gives all it has; the rest comes from the others
    assert sum('"r' in line for line in _read_lines((big, small), 300)) == 100
    assert len(_read_lines((big, small), 300)) == 300
    assert _read_lines((big, small), 160) == picked  # seeded: the same run replays the same rows
    assert len(_read_lines((big, small), None)) == 800


def test_a_retrain_that_continues_takes_the_small_retrain_steps(env, tmp_path):
    from types import SimpleNamespace

    from bot.learning.trainer import SubprocessTrainer

    settings, store, registry, starter = env
    script = tmp_path / "fake_lora.py"
    script.write_text(FAKE_LORA)
    trainer = SubprocessTrainer(settings, command=[sys.executable, str(script)])
    configs = {}
    for current in (None, registry.current()):
        run_dir = tmp_path / f"run-{current}"
        run_dir.mkdir()
        (run_dir / "train.jsonl").write_text(starter.read_text())
        trainer(SimpleNamespace(run_id=1, current=current, run_dir=run_dir, train_file=run_dir / "train.jsonl"),
                lambda: None)
        configs[current] = json.loads((run_dir / "lora.json").read_text())
    fresh, continued = configs[None], configs[registry.current()]
    assert fresh["init_adapter"] is None and fresh["learning_rate"] == settings.train.learning_rate
    assert fresh.get("max_steps") is None
    assert continued["init_adapter"] == str(registry.path(registry.current()))
    assert continued["learning_rate"] == settings.scheduler.retrain_learning_rate < settings.train.learning_rate
    assert continued["max_steps"] == settings.scheduler.retrain_max_steps
    assert continued["mix_with_parent"] == settings.scheduler.retrain_parent_mix > 0
    assert "mix_with_parent" not in fresh  # nothing to mix with
