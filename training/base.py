"""Base models: the embedded one this project ships, or any Hugging Face causal LM by id or path.

One code path loads them all (AutoTokenizer + AutoModelForCausalLM); "embedded" only decides
where the files come from.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from retrieval.errors import CibotError, ConfigError

ASSETS = Path(__file__).resolve().parent / "assets"
BASE_ASSET = ASSETS / "base"
CHECKSUMS = "SHA256SUMS.txt"
EMBEDDED = "embedded"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_checksums(folder: Path) -> str:
    """Write CHECKSUMS for every other file in `folder`; returns the digest of that list."""
    lines = [f"{sha256_file(p)}  {p.name}" for p in sorted(folder.iterdir())
             if p.is_file() and p.name != CHECKSUMS]
    text = "\n".join(lines) + "\n"
    (folder / CHECKSUMS).write_text(text)
    return hashlib.sha256(text.encode()).hexdigest()


def verify_checksums(folder: Path) -> str:
    """Check every file listed in CHECKSUMS; returns the list's digest. Mismatch -> ConfigError."""
    listing = folder / CHECKSUMS
    if not listing.is_file():
        raise ConfigError(f"{folder} has no {CHECKSUMS}", hint="the model directory is incomplete")
    text = listing.read_text()
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, name = line.split(None, 1)
        path = folder / name.strip()
        if not path.is_file() or sha256_file(path) != digest:
            raise ConfigError(f"checksum mismatch for {path}", hint="the model files are corrupt; reinstall them")
    return hashlib.sha256(text.encode()).hexdigest()


def ensure_base_model(models_dir: Path, asset: Path = BASE_ASSET) -> Path:
    """Install the shipped embedded model into `models_dir` (verified); return its directory."""
    if not (asset / CHECKSUMS).is_file():
        raise CibotError(f"the embedded base model is not built ({asset} is missing)",
                         hint="run `cibot train base` from a source checkout")
    digest = verify_checksums(asset)
    target = Path(models_dir) / f"embedded-{digest[:12]}"
    if target.is_dir():
        try:
            verify_checksums(target)
            return target
        except ConfigError:
            shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Copy beside the target then rename, so a reader never sees a half-copied model.
    staging = Path(tempfile.mkdtemp(prefix=".embedded-", dir=target.parent))
    try:
        for item in asset.iterdir():
            if item.is_file():
                shutil.copy2(item, staging / item.name)
        verify_checksums(staging)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def resolve_base(name: str, models_dir: Path | None = None) -> str:
    """Where to load `name` from: a local directory path, or a hub id found in the local cache."""
    if name == EMBEDDED:
        if models_dir is None:
            return str(BASE_ASSET)
        return str(ensure_base_model(models_dir))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise CibotError(f"base model directory {path} has no config.json", hint=_offline_hint(name))
        return str(path)
    if _looks_like_path(name):
        raise CibotError(f"base model directory not found: {name}", hint=_offline_hint(name))
    try:
        from huggingface_hub import snapshot_download

        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        return snapshot_download(name, local_files_only=offline,
                                 allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"])
    except Exception as exc:  # hub errors vary (offline, not cached, gated, bad id)
        raise CibotError(f"base model '{name}' is not available here ({type(exc).__name__})",
                         hint=_offline_hint(name)) from None


def _looks_like_path(name: str) -> bool:
    # Hub ids are "name" or "org/name"; anything else is meant as a directory.
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def _offline_hint(name: str) -> str:
    return (f"download it on a machine with internet: `huggingface-cli download {name} --local-dir DIR`, "
            "copy DIR here and set model.base = DIR (CIBOT_MODEL__BASE=DIR); or use model.base = embedded")


def pick_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def cpu_bf16_supported() -> bool:
    """True on CPUs with native bf16 matrix units (AMX or AVX512-BF16), where bf16 autocast
    roughly doubles training speed; elsewhere CPU bf16 is emulated and slower than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


def mixed_precision(device: str, wanted: str = "auto") -> str:
    """"bf16" or "no" for training on `device`: bf16 on GPUs that support it and on CPUs with
    native bf16 units; `wanted` ("auto", "bf16", "no") overrides the detection."""
    if wanted in ("bf16", "no"):
        return wanted
    import torch

    if device == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "no"
    if device == "cpu":
        return "bf16" if cpu_bf16_supported() else "no"
    return "no"


def pick_dtype(device: str):
    import torch

    if device == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_causal_lm(name: str, models_dir: Path | None = None, device: str = "auto"):
    """(model, tokenizer, source) for any base: the same from_pretrained path for every model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_base(name, models_dir)
    device = pick_device(device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=pick_dtype(device))
    except OSError as exc:
        raise CibotError(f"cannot load base model '{name}' from {source}: {exc}", hint=_offline_hint(name)) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device), tokenizer, source
