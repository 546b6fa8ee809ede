"""Splitting knowledge files into chunks: pure functions, no index."""
from __future__ import annotations

import json

from retrieval.sources import (
    html_sections, iter_files, load_file, load_incidents, markdown_sections, rst_sections, split_body,
)


def test_markdown_keeps_heading_path_and_ignores_hashes_in_code_fences():
    text = "# Docker\n\nintro\n\n## Disk full\n\n```sh\n# not a heading\ndocker system prune -af\n```\n\n### On GitHub\n\nfree space\n"
    sections = markdown_sections(text)
    assert [h for h, _ in sections] == [("Docker",), ("Docker", "Disk full"), ("Docker", "Disk full", "On GitHub")]
    assert "# not a heading" in sections[1][1]


def test_rst_levels_follow_adornment_order():
    text = "Title\n=====\n\nintro\n\nSection\n-------\n\nbody\n\nOther\n=====\n\nmore\n"
    assert [h for h, _ in rst_sections(text)] == [("Title",), ("Title", "Section"), ("Other",)]


def test_html_sections_skip_scripts_and_nest_headings():
    html = "<html><head><title>x</title></head><body><h1>Runbook</h1><p>a</p><script>evil()</script>" \
           "<h2>Fix</h2><p>run <code>make</code></p></body></html>"
    sections = html_sections(html)
    assert sections == [(("Runbook",), "a"), (("Runbook", "Fix"), "run make")]


def test_split_body_prefixes_heading_and_respects_chunk_size():
    body = "\n\n".join(f"paragraph {i} " + "x" * 150 for i in range(10))
    pieces = split_body(("Doc", "Part"), body, chunk_chars=400)
    assert len(pieces) > 3
    assert all(p.startswith("Doc > Part\n\n") for p in pieces)
    assert all(len(p) <= 400 + len("Doc > Part\n\n") for p in pieces)
    assert split_body(("Doc",), "   ", 400) == []


def test_incidents_are_redacted_and_bad_rows_reported():
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    rows = [
        {"id": "i1", "input": f"export GITHUB_TOKEN={token}\nfatal: Authentication failed", "output": "Rotate the token.",
         "title": "Clone auth failure", "url": "https://ci/1", "tags": ["auth"], "channel": "C42"},
        "not json",
        {"input": "x"},
    ]
    text = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows)
    report = load_incidents(text, "incidents.jsonl")
    assert len(report.documents) == 1 and len(report.errors) == 2
    doc = report.documents[0]
    chunk = doc.chunks[0]
    assert token not in chunk.text and "Authentication failed" in chunk.text
    assert doc.channels == ("C42",) and chunk.uri == "https://ci/1" and chunk.kind == "incident"
    assert chunk.meta == {"tags": "auth"}


def test_long_incident_logs_are_reduced_to_their_excerpt():
    log = "\n".join(f"step {i}: ok" for i in range(400)) + "\nnpm ERR! code ERESOLVE\nnpm ERR! unable to resolve dependency tree\n"
    report = load_incidents(json.dumps({"input": log, "output": "pin the peer"}), "x.jsonl")
    text = report.documents[0].chunks[0].text
    assert "ERESOLVE" in text and text.count("\n") < 80


def test_iter_files_reports_missing_and_unsupported(tmp_path):
    (tmp_path / "a.md").write_text("# A\n\nbody\n")
    (tmp_path / "b.bin").write_bytes(b"\x00")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.md").write_text("# C\n")
    found = dict(iter_files([tmp_path, tmp_path / "b.bin", tmp_path / "nope.md"]))
    assert found[tmp_path / "a.md"] is None
    assert "unsupported" in found[tmp_path / "b.bin"]
    assert found[tmp_path / "nope.md"] == "no such file or directory"
    assert tmp_path / ".hidden" / "c.md" not in found


def test_bundled_runbooks_all_load_with_headings():
    from retrieval.index import KNOWLEDGE_DIR

    files = [p for p, err in iter_files([KNOWLEDGE_DIR / "runbooks"]) if err is None]
    assert len(files) >= 15
    for path in files:
        doc = load_file(path, uri=path.name).documents[0]
        assert len(doc.chunks) >= 3, path
        assert all(c.heading_path for c in doc.chunks), path
        assert sum(len(c.heading_path) >= 2 for c in doc.chunks) >= 3, path


# -- Hardening: secrets in knowledge, links out of the folder, server paths ----------
NPM_TOKEN = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def test_runbooks_are_redacted_before_indexing(tmp_path):
    from retrieval.sources import load_file

    doc = tmp_path / "deploy.md"
    doc.write_text(f"# Deploy {NPM_TOKEN}\n\n## Fix\nRun `sshpass -p 'Ss33mSpKyo2XAc' ssh deploy@ci`\n"
                   f"then `npm publish` with //registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    report = load_file(doc, uri="runbooks/deploy.md")
    text = repr([(c.text, c.title, c.heading_path) for c in report.documents[0].chunks])
    assert NPM_TOKEN not in text and "Ss33mSpKyo2XAc" not in text and "[REDACTED:" in text


def test_incident_title_url_and_tags_are_redacted_and_urls_lose_credentials():
    from retrieval.sources import incident_document

    row = {"input": "E: deploy failed", "output": "rotated the key",
           "title": f"deploy broke: token {NPM_TOKEN}", "url": "https://deploybot:Hunter22x@ci.example.com/job/9",
           "tags": ["deploy", NPM_TOKEN]}
    chunk = incident_document(row, "incidents.jsonl", 1).chunks[0]
    shown = repr((chunk.title, chunk.uri, chunk.meta, chunk.text))
    assert NPM_TOKEN not in shown and "Hunter22x" not in shown and "deploybot" not in shown
    assert chunk.uri == "https://ci.example.com/job/9"


def test_links_that_leave_the_ingested_folder_are_not_followed(tmp_path):
    from retrieval.sources import iter_files

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "prod.env").write_text("DB_PASSWORD=hunter2")
    (outside / "prod.txt").write_text("DB_PASSWORD=hunter2")
    docs = tmp_path / "kb" / "docs"
    docs.mkdir(parents=True)
    (docs / "ok.md").write_text("# fine\n")
    (docs / "notes.txt").symlink_to(outside / "prod.txt")
    (docs / "inside.md").symlink_to(docs / "ok.md")
    found = {p.name: err for p, err in iter_files([tmp_path / "kb"])}
    assert found["ok.md"] is None and found["inside.md"] is None
    assert "leaves the ingested folder" in found["notes.txt"]


def test_sources_are_shown_relative_to_the_ingested_folder(tmp_path):
    from retrieval.sources import display_name

    root = tmp_path / "srv" / "runbooks"
    assert display_name(root / "ci" / "npm.md", [root]) == "runbooks/ci/npm.md"
    assert display_name(root / "npm.md", [root / "npm.md"]) == "npm.md"
    assert str(tmp_path) not in display_name(root / "x.md", [tmp_path / "elsewhere"])


def test_parts_of_one_entry_stay_together_and_separate_entries_stay_apart():
    from retrieval.sources import keep_parents_whole, markdown_sections

    entry = "# npm ci fails\n\n## Symptom\nnpm ERR! no lockfile\n\n## Fix\nCommit package-lock.json.\n"
    [(head, body)] = keep_parents_whole(markdown_sections(entry), 2400)
    assert head == ("npm ci fails",) and "no lockfile" in body and "Commit package-lock.json." in body
    entries = "# Caches\n\n## Cache restore warnings\nWarning: Cache save failed.\n\n## Artifact upload fails\nNo files.\n"
    assert len(keep_parents_whole(markdown_sections(entries), 2400)) == 3
    too_long = "# Big\n\n## Symptom\n" + "x " * 2000 + "\n\n## Fix\ny\n"
    assert len(keep_parents_whole(markdown_sections(too_long), 2400)) == 3


def test_markdown_headings_inside_code_fences_are_code_not_sections():
    from retrieval.sources import markdown_sections

    text = "# Runbook\n\n## Fix\nRun this:\n```sh\n# not a heading\nnpm ci\n```\n\n## Notes\nnone\n"
    sections = markdown_sections(text)
    assert [h for h, _ in sections] == [("Runbook",), ("Runbook", "Fix"), ("Runbook", "Notes")]
    assert "# not a heading" in dict(sections)[("Runbook", "Fix")]
