"""Client/server mode against a real Chroma server started from the venv's `chroma` CLI."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from needs import missing

from retrieval.errors import IndexUnavailable
from retrieval.index import KnowledgeIndex
from retrieval.search import Retriever
from retrieval.settings import RetrievalSettings
from retrieval.types import Scope

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        missing("the chroma CLI is not installed next to this interpreter")
    port = free_port()
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"chroma run exited with {proc.returncode}")
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_http_mode_ingests_searches_and_scopes(chroma_server, tmp_path):
    from retrieval.embed import load_embedder

    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "go.md").write_text("# Go\n\n## go.sum\n\nmissing go.sum entry for module: run go mod tidy and commit go.sum.\n")
    (kb / "secret.md").write_text("# Team\n\n## Key\n\nThe deploy key lives at vault path ci/deploy-key-4242.\n")
    settings = RetrievalSettings(mode="http", chroma_host="127.0.0.1", chroma_port=chroma_server)
    index = KnowledgeIndex.open(settings, tmp_path / "local-cache", embedder=load_embedder())
    assert index.location == f"http://127.0.0.1:{chroma_server}"
    assert index.ingest([kb / "go.md"]).added == 1
    assert index.ingest([kb / "secret.md"], scope=["C1"]).added == 1
    assert index.ingest([kb / "go.md"]).unchanged == 1

    # A second client (another replica) sees the same collection.
    replica = Retriever(KnowledgeIndex.open(settings, tmp_path / "replica-cache", embedder=load_embedder()))
    assert "go mod tidy" in replica.search("missing go.sum entry", k=1)[0].text
    assert all("4242" not in p.text for p in replica.search("deploy-key-4242", scope=Scope(channel="C2")))
    assert "4242" in replica.search("deploy-key-4242", k=1, scope=Scope(channel="C1"))[0].text


def test_unreachable_server_is_a_clear_error(tmp_path):
    settings = RetrievalSettings(mode="http", chroma_host="127.0.0.1", chroma_port=free_port())
    from retrieval.embed import load_embedder

    with pytest.raises(IndexUnavailable, match="cannot reach the Chroma server at http://127.0.0.1"):
        KnowledgeIndex.open(settings, tmp_path / "c", embedder=load_embedder())
