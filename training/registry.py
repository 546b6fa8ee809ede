"""Versioned LoRA adapters under CIBOT_HOME/adapters.

    adapters/
      v0001/            adapter_model.safetensors, adapter_config.json, meta.json, SHA256SUMS.txt
      v0002/
      .staging-*/       a version being written; never listed, removed if its writer dies
      current           JSON {"version": "v0002", "history": ["v0001"]}, replaced atomically

A version appears only by renaming a finished staging directory, and `current` only changes by
os.replace of a freshly written file, so a reader (or a killed trainer) never sees half a state.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from retrieval.errors import ConfigError, UsageError
from training.base.model import ASSETS, CHECKSUMS, DEFAULT_BASE, verify_checksums, write_checksums

# The shipped default adapter, trained on the default base (SmolLM2), and the test fixture's
# adapter, trained on the embedded fixture base. Each is installed only for its own base.
DEFAULT_ADAPTER = ASSETS / "adapter"
FIXTURE_ADAPTER = ASSETS / "fixture-adapter"
SHIPPED = (DEFAULT_ADAPTER, FIXTURE_ADAPTER)
POINTER = "current"
META = "meta.json"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_NUMBERED = re.compile(r"^v(\d+)$")
STALE_STAGING_S = 24 * 3600


@dataclass
class Staging:
    path: Path
    meta: dict = field(default_factory=dict)
    version: str | None = None  # set once the version is committed


class AdapterRegistry:
    def __init__(self, root: Path):
        self.root = Path(root)

    # --- reading ---------------------------------------------------------------------------------
    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir()
                 if p.is_dir() and not p.name.startswith(".") and (p / META).is_file()]
        return sorted(found, key=_order)

    def path(self, version: str) -> Path:
        if not _VERSION.match(version or ""):
            raise UsageError(f"invalid adapter version name: {version!r}")
        path = self.root / version
        if not (path / META).is_file():
            raise UsageError(f"no adapter version {version}", hint=f"known: {', '.join(self.versions()) or 'none'}")
        return path

    def meta(self, version: str) -> dict:
        try:
            return json.loads((self.path(version) / META).read_text())
        except ValueError:
            raise ConfigError(f"adapter {version} has a corrupt {META}") from None

    def current(self) -> str | None:
        state = self._pointer()
        version = state.get("version")
        return version if version and (self.root / version / META).is_file() else None

    def history(self) -> list[str]:
        return list(self._pointer().get("history", []))

    def verify(self, version: str) -> dict:
        """Check files and checksums; a corrupt or incomplete version raises ConfigError."""
        path = self.path(version)
        meta = self.meta(version)
        if not (path / "adapter_config.json").is_file():
            raise ConfigError(f"adapter {version} is incomplete (no adapter_config.json)")
        try:
            verify_checksums(path)
        except ConfigError as exc:
            raise ConfigError(f"adapter {version} is corrupt: {exc.message}",
                              hint="promote or roll back to another version") from None
        return meta

    # --- writing ---------------------------------------------------------------------------------
    @contextmanager
    def staging(self, version: str | None = None) -> Iterator[Staging]:
        """Write a new version into a hidden directory; it becomes visible only if the block ends
        without an exception. The caller fills stage.path and stage.meta."""
        if version is not None and not _VERSION.match(version):
            raise UsageError(f"invalid adapter version name: {version!r}", hint="letters, digits, . _ -")
        if version is not None and (self.root / version).exists():
            raise UsageError(f"adapter version {version} already exists")
        self.root.mkdir(parents=True, exist_ok=True)
        self._sweep_stale()
        stage = Staging(Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root)))
        try:
            yield stage
            stage.meta.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            stage.version = self._commit(stage, version)
        except BaseException:
            shutil.rmtree(stage.path, ignore_errors=True)
            raise

    def _commit(self, stage: Staging, version: str | None) -> str:
        for _ in range(100):  # another trainer may take the same number; take the next one
            name = version or self._next_version()
            stage.meta["version"] = name
            (stage.path / META).write_text(json.dumps(stage.meta, indent=2, sort_keys=True, default=str))
            write_checksums(stage.path)
            try:
                os.rename(stage.path, self.root / name)
                return name
            except OSError:
                if version:
                    raise UsageError(f"adapter version {version} already exists") from None
        raise ConfigError(f"could not allocate an adapter version under {self.root}")

    def _next_version(self) -> str:
        numbers = [int(m.group(1)) for v in self.versions() if (m := _NUMBERED.match(v))]
        return f"v{max(numbers, default=0) + 1:04d}"

    def promote(self, version: str) -> None:
        self.verify(version)
        state = self._pointer()
        old = state.get("version")
        history = [v for v in state.get("history", []) if v != version]
        if old and old != version:
            history.append(old)
        self._write_pointer({"version": version, "history": history[-50:]})

    def rollback(self) -> str:
        """Point `current` back at the version promoted before it; returns that version."""
        state = self._pointer()
        history = [v for v in state.get("history", []) if (self.root / v / META).is_file()]
        while history:
            previous = history.pop()
            try:
                self.verify(previous)
            except ConfigError:
                continue
            self._write_pointer({"version": previous, "history": history})
            return previous
        raise UsageError("nothing to roll back to", hint="`cibot adapters list` shows the versions")

    def ensure_default(self, asset: Path | None = None, base: str = DEFAULT_BASE) -> str | None:
        """Install the shipped adapter for `base` as the first version when the registry is empty;
        again when the current adapter is the shipped default of another base (an upgrade moved
        the default base); and
        again after an upgrade shipped a rebuilt embedded base: an adapter trained on the old
        build (its `base_source` says which) would load onto the new one and write nonsense, so
        the new default is installed and served (`cibot adapters rollback` still goes back)."""
        if asset is None:
            asset = shipped_adapter(base)
            if asset is None:  # no shipped adapter for this base: the base alone, or the team's own
                return self.current()
        shipped = json.loads((asset / META).read_text()) if (asset / META).is_file() else {}
        if self.versions():
            current = self.current()
            if current is not None and self._other_base(current, shipped):
                # model.base changed: serve the newest version already trained on it, if any
                same = [v for v in self.versions()
                        if self._meta_or_empty(v).get("base", "embedded") == shipped.get("base", "embedded")]
                if same:
                    self.promote(same[-1])
                    return same[-1]
            elif current is None or not self._stale_embedded(current, shipped):
                return current
            metas = [self._meta_or_empty(v) for v in self.versions()]
            source = shipped.get("base_source")
            if any(m.get("installed_from") == str(asset) and m.get("base_source") == source for m in metas):
                return current  # installed once already; someone promoted the old one back on purpose
        if not (asset / CHECKSUMS).is_file():
            return None
        verify_checksums(asset)
        with self.staging() as stage:
            for item in asset.iterdir():
                if item.is_file() and item.name not in (META, CHECKSUMS):
                    shutil.copy2(item, stage.path / item.name)
            stage.meta.update(shipped, source="default", installed_from=str(asset))
        self.promote(stage.version)
        return stage.version

    def _stale_embedded(self, version: str, shipped: dict) -> bool:
        """True when `version` was trained on another build of the embedded base than `shipped`."""
        meta = self._meta_or_empty(version)
        built, ships = meta.get("base_source"), shipped.get("base_source")
        return (meta.get("base", "embedded") == "embedded" and shipped.get("base", "embedded") == "embedded"
                and bool(built) and bool(ships) and built != ships)

    def _other_base(self, version: str, shipped: dict) -> bool:
        """True when `version` is a shipped default for another base (an upgrade changed the
        default base). A team's own adapter is never displaced: serving it on another base is
        refused with both names instead."""
        meta = self._meta_or_empty(version)
        return (bool(shipped) and meta.get("source") == "default"
                and meta.get("base", "embedded") != shipped.get("base", "embedded"))

    def _meta_or_empty(self, version: str) -> dict:
        try:
            return self.meta(version)
        except (OSError, ConfigError):
            return {}

    def export(self, version: str, dest: Path) -> Path:
        """Copy a verified version to `dest` (e.g. training/assets/adapter to ship it)."""
        meta = self.verify(version)
        dest = Path(dest)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for item in self.path(version).iterdir():
            if item.is_file() and item.name not in (CHECKSUMS, "README.md"):
                shutil.copy2(item, dest / item.name)
        (dest / META).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        write_checksums(dest)
        return dest

    # --- internals -------------------------------------------------------------------------------
    def _pointer(self) -> dict:
        try:
            state = json.loads((self.root / POINTER).read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _write_pointer(self, state: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".current-", dir=self.root)
        with os.fdopen(fd, "w") as fh:
            json.dump(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / POINTER)

    def _sweep_stale(self) -> None:
        # A trainer killed mid-write leaves .staging-*; nobody else writes there, so old ones go.
        cutoff = time.time() - STALE_STAGING_S
        for p in self.root.glob(".staging-*"):
            try:
                if p.stat().st_mtime < cutoff:
                    shutil.rmtree(p, ignore_errors=True)
            except OSError:
                pass


def shipped_adapter(base: str) -> Path | None:
    """The shipped adapter trained on `base`, if one is."""
    for asset in SHIPPED:
        try:
            meta = json.loads((asset / META).read_text())
        except (OSError, ValueError):
            continue
        if meta.get("base", "embedded") == base:
            return asset
    return None


def _order(version: str) -> tuple:
    m = _NUMBERED.match(version)
    return (0, int(m.group(1)), version) if m else (1, 0, version)
