"""Training rows get incident notes shaped like retrieval's, never ones that name their answer."""
import json

from training.finetune.data import Example
from training.finetune.notes import add_retrieved_notes


def _write(tmp_path, rows):
    path = tmp_path / "incidents.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    return path


def _incident(kind, title, text, key):
    return {"type": kind, "input": text, "title": title, "output": f"Root Cause: {text}. Fix: mend it.", "key_ids": [key]}


def _incidents(tmp_path):
    return _write(tmp_path, [
        _incident("npm_missing", "npm in a", "npm ERR! enoent package.json in /app/a", "/app/a"),
        _incident("npm_missing", "npm in b", "npm ERR! enoent package.json in /app/b", "/app/b"),
        _incident("oom", "oom in c", "Killed (exit 137) in job c", "job-c"),
    ])


def _rows():
    return [Example(input=f"npm ERR! enoent package.json in /app/{x}", output="Root Cause: ...",
                    meta={"type": "npm_missing", "key_ids": [f"/app/{x}"]}) for x in "ab"]


def test_rows_get_incidents_of_their_type_in_the_index_shape_but_not_their_own(tmp_path):
    rows = _rows() + [Example(input="x", output="y", context=[{"title": "own", "text": "kept"}], meta={"type": "oom"}),
                      Example(input="z", output="w", meta={"type": "unknown_type"})]
    added = add_retrieved_notes(rows, 1.0, seed=1, incidents=_incidents(tmp_path))
    assert added == 2
    a, b, own, unknown = rows
    titles_a = [n["title"] for n in a.context]
    assert "npm in b" in titles_a and "npm in a" not in titles_a  # never the note that names /app/a
    assert all("Failure:" in n["text"] and "Resolution:" in n["text"] for n in a.context)
    assert "npm in a" in [n["title"] for n in b.context]
    assert own.context == [{"title": "own", "text": "kept"}] and unknown.context == []


def test_no_share_or_no_incidents_changes_nothing_and_a_seed_repeats_itself(tmp_path):
    rows = _rows()
    assert add_retrieved_notes(rows, 0.0, seed=1, incidents=_incidents(tmp_path)) == 0
    assert add_retrieved_notes(rows, 1.0, seed=1, incidents=tmp_path / "missing.jsonl") == 0
    assert all(r.context == [] for r in rows)
    first, second = _rows(), _rows()
    add_retrieved_notes(first, 1.0, seed=7, incidents=_incidents(tmp_path))
    add_retrieved_notes(second, 1.0, seed=7, incidents=_incidents(tmp_path))
    assert [r.context for r in first] == [r.context for r in second]


def test_a_note_whose_text_names_the_answer_is_never_given_whatever_its_type(tmp_path):
    path = _write(tmp_path, [_incident("npm_missing", "npm in a and b", "npm ERR! enoent in /app/a and /app/b", "/app/b"),
                             _incident("oom", "oom in a", "Killed (exit 137) in /app/a", "job-c")])
    for seed in range(20):
        row = Example(input="npm ERR! enoent package.json in /app/a", output="Root Cause: ...",
                      meta={"type": "npm_missing", "key_ids": ["/app/a"]})
        add_retrieved_notes([row], 1.0, seed=seed, incidents=path)
        assert row.context == []  # both incidents name /app/a in their text


def test_one_row_in_ten_gets_only_notes_of_a_neighbouring_type(tmp_path):
    from training.finetune.notes import UNRELATED_RATE

    def tagged(kind, tags, title, key):
        return dict(_incident(kind, title, f"{title} failed for {key}", key), tags=tags)

    path = _write(tmp_path, [tagged("npm_missing", ["npm", "dependency"], "npm in a", "/app/a"),
                             tagged("npm_missing", ["npm", "dependency"], "npm in b", "/app/b"),
                             tagged("npm_eresolve", ["npm", "dependency"], "eresolve", "react"),
                             tagged("oom", ["runner"], "oom", "job-c")])
    rows = [Example(input=f"npm ERR! enoent in /app/z{i}", output="Root Cause: ...",
                    meta={"type": "npm_missing", "key_ids": [f"/app/z{i}"]}) for i in range(400)]
    assert add_retrieved_notes(rows, 1.0, seed=3, incidents=path) == 400
    only_other = [r for r in rows if not {n["title"] for n in r.context} & {"npm in a", "npm in b"}]
    assert abs(len(only_other) / len(rows) - UNRELATED_RATE) < 0.05
    # the neighbour shares the npm tag; "oom" comes only as the occasional extra note of any type
    assert all("eresolve" in {n["title"] for n in r.context} for r in only_other)
