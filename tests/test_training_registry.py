"""The adapter registry: versions appear atomically, `current` moves by rename, corrupt refused."""
import json

import pytest

from retrieval.errors import ConfigError, UsageError
from training.base.model import write_checksums
from training.registry import AdapterRegistry


def _add(registry, text="w", version=None, meta=None):
    with registry.staging(version) as stage:
        (stage.path / "adapter_config.json").write_text(json.dumps({"r": 4}))
        (stage.path / "adapter_model.safetensors").write_text(text)
        stage.meta.update(meta or {"base": "embedded"})
    return stage.version


def test_versions_are_numbered_with_meta_and_checksums(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    assert reg.versions() == [] and reg.current() is None
    assert [_add(reg), _add(reg), _add(reg, version="team-a")] == ["v0001", "v0002", "team-a"]
    assert reg.versions() == ["v0001", "v0002", "team-a"]
    meta = reg.verify("v0002")
    assert meta["version"] == "v0002" and meta["base"] == "embedded" and meta["created"]
    assert (reg.path("v0001") / "SHA256SUMS.txt").is_file()


def test_a_failing_staging_leaves_no_version_and_current_untouched(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    reg.promote(_add(reg))
    with pytest.raises(RuntimeError):
        with reg.staging() as stage:
            (stage.path / "adapter_model.safetensors").write_text("half")
            raise RuntimeError("killed mid-training")
    assert reg.versions() == ["v0001"]
    assert reg.current() == "v0001"
    assert [p.name for p in reg.root.iterdir() if p.name.startswith(".staging")] == []


def test_a_killed_writer_leaves_only_a_hidden_dir_nobody_lists(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    reg.root.mkdir(parents=True)
    (reg.root / ".staging-dead").mkdir()
    (reg.root / ".staging-dead" / "meta.json").write_text("{}")
    assert reg.versions() == []


def test_promote_and_rollback_walk_the_history(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    v1, v2, v3 = _add(reg), _add(reg), _add(reg)
    reg.promote(v1)
    reg.promote(v2)
    reg.promote(v3)
    assert reg.current() == v3
    assert reg.rollback() == v2 and reg.current() == v2
    assert reg.rollback() == v1 and reg.current() == v1
    with pytest.raises(UsageError, match="nothing to roll back"):
        reg.rollback()
    assert json.loads((reg.root / "current").read_text())["version"] == v1


def test_corrupt_adapter_is_refused_by_verify_promote_and_rollback(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    v1, v2 = _add(reg), _add(reg)
    reg.promote(v1)
    reg.promote(v2)
    (reg.path(v1) / "adapter_model.safetensors").write_text("bit rot")
    with pytest.raises(ConfigError, match="corrupt"):
        reg.verify(v1)
    with pytest.raises(ConfigError):
        reg.promote(v1)
    with pytest.raises(UsageError):
        reg.rollback()
    assert reg.current() == v2


def test_unknown_or_bad_version_names_are_usage_errors(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    _add(reg)
    with pytest.raises(UsageError, match="no adapter version v0009"):
        reg.promote("v0009")
    with pytest.raises(UsageError):
        reg.path("../etc")
    with pytest.raises(UsageError, match="already exists"):
        _add(reg, version="v0001")


def test_ensure_default_installs_the_shipped_adapter_once(tmp_path):
    asset = tmp_path / "asset"
    asset.mkdir()
    (asset / "adapter_config.json").write_text("{}")
    (asset / "adapter_model.safetensors").write_text("weights")
    (asset / "meta.json").write_text(json.dumps({"base": "embedded", "metrics": {"id_recall": 0.9}}))
    write_checksums(asset)
    reg = AdapterRegistry(tmp_path / "adapters")
    assert reg.ensure_default(asset) == "v0001"
    assert reg.current() == "v0001"
    assert reg.meta("v0001")["source"] == "default"
    assert reg.ensure_default(asset) == "v0001" and reg.versions() == ["v0001"]


def test_ensure_default_refuses_a_tampered_asset(tmp_path):
    asset = tmp_path / "asset"
    asset.mkdir()
    (asset / "adapter_config.json").write_text("{}")
    write_checksums(asset)
    (asset / "adapter_config.json").write_text('{"evil": 1}')
    with pytest.raises(ConfigError, match="checksum"):
        AdapterRegistry(tmp_path / "adapters").ensure_default(asset)


def test_adapters_cli_lists_promotes_and_rolls_back(cibot_home, capsys):
    from bot.cli import main

    reg = AdapterRegistry(cibot_home / "adapters")
    a, b = _add(reg, meta={"base": "embedded", "metrics": {"id_recall": 0.5}}), _add(reg)
    assert main(["adapters", "promote", a]) == 0
    assert main(["adapters", "promote", b]) == 0
    capsys.readouterr()
    assert main(["adapters", "list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["current"] == b
    assert next(r for r in listing["versions"] if r["version"] == a)["metrics"] == {"id_recall": 0.5}
    assert main(["adapters", "rollback"]) == 0
    assert reg.current() == a
    assert main(["adapters", "promote", "v9999"]) == 2
    assert "no adapter version v9999" in capsys.readouterr().err


def test_an_upgrade_that_rebuilt_the_embedded_base_serves_the_new_default_adapter(tmp_path):
    def shipped(source):
        asset = tmp_path / f"asset-{source}"
        asset.mkdir()
        (asset / "adapter_config.json").write_text("{}")
        (asset / "adapter_model.safetensors").write_text(f"weights for {source}")
        (asset / "meta.json").write_text(json.dumps({"base": "embedded", "base_source": f"sha256:{source}"}))
        write_checksums(asset)
        return asset

    reg = AdapterRegistry(tmp_path / "adapters")
    assert reg.ensure_default(shipped("old")) == "v0001"
    mine = _add(reg, meta={"base": "embedded", "base_source": "sha256:old"})
    reg.promote(mine)
    new = shipped("new")
    installed = reg.ensure_default(new)  # the team's adapter was trained on the old base build
    assert installed not in ("v0001", mine) and reg.current() == installed
    assert reg.meta(installed)["base_source"] == "sha256:new"
    assert reg.rollback() == mine  # still there to go back to on purpose
    assert reg.ensure_default(new) == mine and len(reg.versions()) == 3  # and not undone by the next start
    same = _add(reg, meta={"base": "embedded", "base_source": "sha256:new"})
    reg.promote(same)
    assert reg.ensure_default(new) == same  # trained on the shipped build: left alone


def _shipped(tmp_path, base, source="s"):
    asset = tmp_path / f"asset-{base}-{source}"
    asset.mkdir()
    (asset / "adapter_config.json").write_text("{}")
    (asset / "adapter_model.safetensors").write_text(f"weights for {base}")
    (asset / "meta.json").write_text(json.dumps({"base": base, "base_source": f"sha256:{source}"}))
    write_checksums(asset)
    return asset


def test_an_upgrade_that_changed_the_default_base_serves_the_new_bases_default(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    assert reg.ensure_default(_shipped(tmp_path, "embedded")) == "v0001"  # the old release's default
    new = reg.ensure_default(_shipped(tmp_path, "smollm2"), base="smollm2")
    assert new == "v0002" and reg.current() == "v0002" and reg.meta(new)["base"] == "smollm2"
    assert reg.rollback() == "v0001"  # the old default is still there


def test_a_teams_own_adapter_on_another_base_is_not_displaced(tmp_path):
    reg = AdapterRegistry(tmp_path / "adapters")
    mine = _add(reg, meta={"base": "embedded"})
    reg.promote(mine)
    assert reg.ensure_default(_shipped(tmp_path, "smollm2"), base="smollm2") == mine
    assert reg.versions() == [mine]


def test_serving_an_adapter_trained_on_another_base_is_refused_naming_both(tmp_path):
    from retrieval.errors import CibotError
    from training.inference.generate import check_adapter_base

    reg = AdapterRegistry(tmp_path / "adapters")
    mine = _add(reg, meta={"base": "embedded"})
    check_adapter_base(reg.path(mine), mine, "embedded")  # same base: fine
    with pytest.raises(CibotError) as err:
        check_adapter_base(reg.path(mine), mine, "smollm2")
    assert f"adapter {mine} was trained on base 'embedded'" in err.value.message and "'smollm2'" in err.value.message


def test_cibot_adapters_promote_refuses_an_adapter_of_another_base(cibot_home, capsys, monkeypatch):
    from bot.cli import main

    reg = AdapterRegistry(cibot_home / "adapters")
    other = _add(reg, meta={"base": "Qwen/Qwen2.5-0.5B-Instruct"})
    assert main(["adapters", "promote", other]) == 2
    err = capsys.readouterr().err
    assert "trained on base 'Qwen/Qwen2.5-0.5B-Instruct'" in err and "model.base is 'embedded'" in err
    assert reg.current() != other
