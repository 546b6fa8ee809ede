"""OpenAIGenerator against a real local HTTP server that speaks the OpenAI chat API."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from training.inference.openai_backend import ModelServerError, OpenAIGenerator

pytestmark = pytest.mark.integration


class FakeOpenAI(BaseHTTPRequestHandler):
    """Records requests; replies as the test configures through the server object."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.server.seen.append(("GET", self.path, dict(self.headers), None))
        self._reply(200, {"object": "list", "data": [{"id": "base-model"}, {"id": "v7"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append(("POST", self.path, dict(self.headers), body))
        if self.server.delay:
            time.sleep(self.server.delay)
        status, reply = self.server.reply
        self._reply(status, reply)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    srv.seen, srv.delay = [], 0.0
    srv.reply = (200, {"choices": [{"message": {"role": "assistant", "content": "Root Cause: x\nFix: y"},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 42, "completion_tokens": 7}})
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def url(srv) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/v1"


MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "why did CI fail?"}]


def test_generate_posts_chat_completions_with_the_adapter_as_model_name(server):
    gen = OpenAIGenerator(url(server), model="v7", api_key="sk-test-key", base_name="embedded")
    out = gen.generate(MESSAGES, max_new_tokens=33)
    method, path, headers, body = server.seen[-1]
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert body["model"] == "v7" and body["messages"] == MESSAGES and body["max_tokens"] == 33
    assert body["temperature"] == 0 and "response_format" not in body
    assert headers["Authorization"] == "Bearer sk-test-key"
    assert (out.text, out.prompt_tokens, out.new_tokens) == ("Root Cause: x\nFix: y", 42, 7)
    assert gen.info().base == "embedded" and gen.info().adapter == "v7"


def test_json_schema_is_sent_as_a_structured_output_response_format(server):
    schema = {"type": "object", "properties": {"root_cause": {"type": "string"}}, "required": ["root_cause"]}
    OpenAIGenerator(url(server), model="v7").generate(MESSAGES, json_schema=schema)
    body = server.seen[-1][3]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == schema


def test_without_a_configured_model_the_servers_first_model_is_used(server):
    gen = OpenAIGenerator(url(server))
    gen.generate(MESSAGES)
    assert server.seen[0][:2] == ("GET", "/v1/models") and server.seen[1][3]["model"] == "base-model"


def test_swap_adapter_switches_the_requested_model_name(server):
    gen = OpenAIGenerator(url(server), model="v7")
    gen.swap_adapter(None, "v8")
    gen.generate(MESSAGES)
    assert server.seen[-1][3]["model"] == "v8"


def test_an_http_error_is_one_clear_error_that_never_shows_the_api_key(server):
    server.reply = (401, {"error": {"message": "invalid api key"}})
    with pytest.raises(ModelServerError) as info:
        OpenAIGenerator(url(server), model="v7", api_key="sk-very-secret").generate(MESSAGES)
    text = str(info.value)
    assert "HTTP 401" in text and "invalid api key" in text and "openai_api_key" in text
    assert "sk-very-secret" not in text


def test_a_slow_server_times_out_with_a_clear_error(server):
    server.delay = 1.0
    with pytest.raises(ModelServerError, match="did not answer within 0.2s"):
        OpenAIGenerator(url(server), model="v7", timeout_s=0.2).generate(MESSAGES)


def test_an_unreachable_server_is_a_clear_error():
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ModelServerError, match="cannot reach the model server"):
        OpenAIGenerator(f"http://127.0.0.1:{port}/v1", model="v7", timeout_s=2).generate(MESSAGES)


def test_a_reply_without_choices_is_reported(server):
    server.reply = (200, {"id": "x"})
    with pytest.raises(ModelServerError, match="no choices"):
        OpenAIGenerator(url(server), model="v7").generate(MESSAGES)


def test_settings_select_the_openai_backend(server, monkeypatch):
    from bot.runtime import load_generator
    from bot.settings import load_settings

    monkeypatch.setenv("CIBOT_MODEL__BACKEND", "openai")
    monkeypatch.setenv("CIBOT_MODEL__OPENAI_BASE_URL", url(server))
    monkeypatch.setenv("CIBOT_MODEL__OPENAI_MODEL", "v3")
    gen = load_generator(load_settings())
    assert isinstance(gen, OpenAIGenerator) and gen.info().adapter == "v3"
    assert gen.count_tokens("x" * 35) == 10


def test_the_engine_answers_through_the_http_backend(server):
    from bot.engine.answer import AnswerRequest
    from bot.engine.pipeline import AnswerEngine

    server.reply = (200, {"choices": [{"message": {"content": "Root Cause: the linker cannot find libssl.\n"
                                                              "Fix: install libssl-dev."}}]})
    engine = AnswerEngine(generator=OpenAIGenerator(url(server), model="v7", base_name="embedded"))
    answer = engine.answer(AnswerRequest(log="ld: library not found for -lssl\nclang: error: linker command failed"))
    assert answer.root_cause == "the linker cannot find libssl (line 2: clang: error: linker command failed)"
    assert answer.model == {"base": "embedded", "adapter": "v7"}
    assert "library not found for -lssl" in server.seen[-1][3]["messages"][-1]["content"]
