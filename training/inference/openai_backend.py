"""OpenAIGenerator: the Generator protocol over any OpenAI-compatible `/v1/chat/completions` server.

For deployments that outgrow one machine: vLLM serving the base model with LoRA adapters (the
request's `model` is the adapter version, as vLLM names LoRA modules), TGI, or llama.cpp's
server. Selected with `model.backend = "openai"`. Standard library HTTP only; every call has a
timeout and every failure becomes one clear CibotError naming the URL.
"""
from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from typing import Any

from retrieval.errors import CibotError, ConfigError
from training.inference.types import Generation, ModelInfo

# Without the server's tokenizer a character ratio must do; 3.5 chars/token errs on the long
# side for English and log text, so budgets computed with it stay inside the real window.
CHARS_PER_TOKEN = 3.5


class ModelServerError(CibotError):
    """The model server could not be reached or refused the request."""


class OpenAIGenerator:
    def __init__(self, base_url: str, *, model: str = "", api_key: str | None = None,
                 timeout_s: float = 60.0, base_name: str = "", max_new_tokens: int = 160):
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"model.openai_base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.base_name = base_name
        self.max_new_tokens = max_new_tokens

    @classmethod
    def from_settings(cls, model_settings: Any) -> "OpenAIGenerator":
        key = model_settings.openai_api_key.get_secret_value() if model_settings.openai_api_key else None
        return cls(model_settings.openai_base_url, model=model_settings.openai_model, api_key=key,
                   timeout_s=model_settings.request_timeout_s, base_name=model_settings.base,
                   max_new_tokens=model_settings.max_new_tokens)

    # --- Generator protocol --------------------------------------------------------------------
    def info(self) -> ModelInfo:
        return ModelInfo(base=self.base_name or self._model_name(), adapter=self.model or None)

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text or "") / CHARS_PER_TOKEN)

    def generate(self, messages: list[dict], *, max_new_tokens: int | None = None,
                 json_schema: dict | None = None, cause_only: bool = False) -> Generation:
        # cause_only is not passed on: a server writes the whole answer, and the caller ignores its fix.
        body: dict[str, Any] = {
            "model": self._model_name(),
            "messages": messages,
            "max_tokens": max_new_tokens or self.max_new_tokens,
            "temperature": 0,
        }
        if json_schema is not None:
            # OpenAI's structured-output shape; vLLM enforces it with guided decoding.
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": json_schema, "strict": True}}
        start = time.perf_counter()
        reply = self._post("/chat/completions", body)
        try:
            text = reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise ModelServerError(f"{self.base_url}/chat/completions returned no choices",
                                   hint="check that the server speaks the OpenAI chat API") from None
        usage = reply.get("usage") or {}
        return Generation(
            text=text, prompt_tokens=int(usage.get("prompt_tokens") or 0),
            new_tokens=int(usage.get("completion_tokens") or 0), seconds=time.perf_counter() - start,
            model=self.info(), meta={"finish_reason": reply["choices"][0].get("finish_reason")})

    def swap_adapter(self, adapter_dir: Any, version: str | None = None) -> None:
        """The server holds the adapters; switching means asking for another model name."""
        if version:
            self.model = version

    # --- HTTP ----------------------------------------------------------------------------------
    def _model_name(self) -> str:
        if not self.model:
            # No name configured: use what the server serves first (vLLM lists the base first).
            models = self._get("/models").get("data") or []
            if not models:
                raise ModelServerError(f"{self.base_url}/models lists no models",
                                       hint="set model.openai_model")
            self.model = str(models[0].get("id", ""))
        return self.model

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _get(self, path: str) -> dict:
        return self._send(urllib.request.Request(self.base_url + path, headers=self._headers()))

    def _post(self, path: str, body: dict) -> dict:
        data = json.dumps(body).encode("utf-8")
        return self._send(urllib.request.Request(self.base_url + path, data=data, headers=self._headers(),
                                                 method="POST"))

    def _send(self, request: urllib.request.Request) -> dict:
        url = request.full_url
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            raise ModelServerError(f"model server answered HTTP {exc.code} for {url}: {_error_text(exc)}",
                                   hint=_hint(exc.code)) from None
        except (TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                raise ModelServerError(f"model server at {url} did not answer within {self.timeout_s:g}s",
                                       hint="raise model.request_timeout_s or check the server's load") from None
            raise ModelServerError(f"cannot reach the model server at {url}: {reason}",
                                   hint="check model.openai_base_url and that the server is running") from None
        try:
            return json.loads(payload)
        except ValueError:
            raise ModelServerError(f"model server at {url} returned something that is not JSON") from None


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
        err = body.get("error", body)
        return str(err.get("message") if isinstance(err, dict) else err)[:300]
    except (ValueError, AttributeError, OSError):
        return exc.reason or "no detail"


def _hint(code: int) -> str | None:
    if code in (401, 403):
        return "check model.openai_api_key"
    if code == 404:
        return "check model.openai_base_url (it should end in /v1) and model.openai_model (the adapter name)"
    if code >= 500:
        return "the server failed; see its logs"
    return None
