"""How a loaded model is served: as peft loads it, or merged into a copy of the base whose Linear
layers are kept in the form that decodes fastest on a CPU; and the check that an adapter belongs
to the base being served."""
from __future__ import annotations

import functools
from pathlib import Path

from retrieval.errors import CibotError

FORMS = ("none", "merged", "half", "int8")

# Below this many parameters a model is the test fixture: "auto" serves it as peft loads it.
QUANTIZE_MIN_PARAMS = 50_000_000
# A Linear call on at most this many rows is decoding (one new token per step, or the few tokens a
# guided run adds); more rows are a prompt being read.
DECODE_ROWS = 8


def serving_form(model, quantize: str = "auto") -> str:
    """How to serve `model`, one of FORMS:
      none    base + adapter as peft loads them (a GPU in bf16, the test fixture);
      merged  the adapter merged into a float32 copy (no LoRA matmuls per token);
      half    merged, each Linear kept as float16 weights for decoding and bfloat16 weights for
              reading the prompt, activations float32 (decoding reads half the bytes per token;
              on 30 held-out real logs it named the failing identifier as often as float32);
      int8    merged, then dynamically quantised to int8 (opt-in: on the same logs it named the
              failing identifier in a third as many answers, README).
    "auto" is "half" on a CPU, "none" on a GPU and for the fixture."""
    if quantize in ("none", "merged", "half"):
        return quantize if quantize == "none" or _on_cpu(model) else "none"
    if quantize == "int8":
        if not _on_cpu(model):
            raise CibotError("int8 serving runs on a CPU only", hint="set model.quantize = auto or none on a GPU")
        return "int8"
    big = sum(p.numel() for p in model.parameters()) >= QUANTIZE_MIN_PARAMS
    return "half" if _on_cpu(model) and big else "none"


def serving_copy(base_model, adapter_dir: Path | None, form: str = "merged"):
    """A serving copy of `base_model` with the adapter merged into its weights, in `form` ("merged",
    "half" or "int8"). `base_model` itself is left untouched."""
    import copy
    import warnings

    import torch

    model = copy.deepcopy(base_model)
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    if form == "int8":
        with warnings.catch_warnings():  # torch marks its eager int8 path deprecated; it is what runs here
            warnings.simplefilter("ignore")
            from torch.ao.quantization import quantize_dynamic

            model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    elif form == "half":
        _halve_linears(model)
    return model.eval()


def _halve_linears(model) -> None:
    """Swap every Linear of `model` for a HalfLinear (in place; tied weights are untied)."""
    import torch

    half_linear = half_linear_class()
    prefill = torch.bfloat16 if _bf16_fast() else torch.float32
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(module, name, half_linear(child, prefill))


@functools.cache
def half_linear_class():
    """The HalfLinear module class (made on first use: torch is imported only where a model is)."""
    import torch

    class HalfLinear(torch.nn.Module):
        """A Linear layer stored twice in 16 bits: float16 for decoding, where a CPU is bound by the
        bytes of weights read per token (float16 matrix-vector products ran 2.8x faster than
        float32 here, and closer to it than bfloat16), and `prefill` (bfloat16 where the CPU has
        native bf16 matmuls, else float32) for reading a prompt, where float16 matmuls are slow.
        Inputs and outputs stay float32."""

        def __init__(self, linear: "torch.nn.Linear", prefill: "torch.dtype"):
            super().__init__()
            weight = linear.weight.detach()
            self.in_features, self.out_features = linear.in_features, linear.out_features
            self.register_buffer("decode_weight", weight.to(torch.float16), persistent=False)
            self.register_buffer("prefill_weight", weight.to(prefill), persistent=False)
            self.bias = None if linear.bias is None else torch.nn.Parameter(linear.bias.detach(), requires_grad=False)

        def forward(self, x):
            rows = x.numel() // max(x.shape[-1], 1)
            weight = self.decode_weight if rows <= DECODE_ROWS else self.prefill_weight
            y = torch.nn.functional.linear(x.to(weight.dtype), weight).to(x.dtype)
            return y if self.bias is None else y + self.bias

    return HalfLinear


def _bf16_fast() -> bool:
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _on_cpu(model) -> bool:
    return next(model.parameters()).device.type == "cpu"


def check_adapter_base(adapter_dir: Path | None, version: str | None, base: str) -> None:
    """Refuse an adapter trained on another base than `base` (it would load and write nonsense)."""
    if adapter_dir is None:
        return
    meta_path = Path(adapter_dir) / "meta.json"
    if not meta_path.is_file():
        return  # an adapter from elsewhere (peft's own folder): peft checks shapes
    import json

    try:
        trained_on = json.loads(meta_path.read_text()).get("base", "embedded")
    except ValueError:
        raise CibotError(f"adapter {version or Path(adapter_dir).name} has a corrupt meta.json") from None
    if trained_on != base:
        raise CibotError(
            f"adapter {version or Path(adapter_dir).name} was trained on base '{trained_on}', "
            f"but the model being served is '{base}'",
            hint=f"promote an adapter trained on '{base}' (`cibot adapters list`), or set model.base = {trained_on}")
