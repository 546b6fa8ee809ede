"""Secret redaction: a planted corpus is fully caught, ordinary log lines are left alone."""
from __future__ import annotations

import gzip
import json
import random

import pytest

from retrieval.logs.redact import KeyBlockTracker, redact

# Fake but well-formed secrets (none of them is live).
GH = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
AWS_ID = "AKIAIOSFODNN7EXAMPLQ"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
SLACK = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
PYPI = "pypi-AgEIcHlwaS5vcmc" + "A" * 70
NPM = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GLPAT = "glpat-" + "x1Y2z3A4b5C6d7E8f9G0"
GCP = "AIza" + "SyD3x4mpl3K3y-abcdefghijklmnopqrstu"

# (line, secret that must disappear, expected kind)
CORPUS = [
    (f"export GITHUB_TOKEN={GH}", GH, "github-token"),
    (f"git clone https://x-access-token:{GH}@github.com/o/r.git", GH, None),
    (f"  token: {GH}", GH, None),
    (f"curl -H 'Authorization: token {GH}' https://api.github.com", GH, None),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV", "github_pat_11ABCDEFG0123456789", "github-token"),
    (f"gho_{'Z' * 36} leaked in output", "gho_" + "Z" * 36, "github-token"),
    (f"AWS_ACCESS_KEY_ID={AWS_ID}", AWS_ID, "aws-access-key"),
    (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "aws-secret-key"),
    (f'"AWS_SECRET_ACCESS_KEY": "{AWS_SECRET}"', AWS_SECRET, None),
    (f"Using credentials {AWS_ID}:{AWS_SECRET}", AWS_ID, None),
    ("aws_session_token=" + "F" * 120, "F" * 120, "aws-session-token"),
    (f"Authorization: Bearer {JWT}", JWT, None),
    (f"id_token={JWT}", JWT, None),
    (f"[debug] jwt {JWT} accepted", JWT, "jwt"),
    (f"SLACK_BOT_TOKEN={SLACK}", SLACK, None),
    ("webhook https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvwx", "slack-token"),
    ("xapp-1-A0ABCDEFGH-1234567890123-0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", None),
    (f"TWINE_PASSWORD={PYPI}", PYPI, None),
    (f"uploading with {PYPI}", PYPI, "pypi-token"),
    (f"//registry.npmjs.org/:_authToken={NPM}", NPM, None),
    (f"NPM_TOKEN: {NPM}", NPM, None),
    (f"CI_JOB_TOKEN {GLPAT}", GLPAT, "gitlab-token"),
    (f"git remote set-url origin https://oauth2:{GLPAT}@gitlab.com/g/p.git", GLPAT, None),
    (f"GOOGLE_API_KEY={GCP}", GCP, None),
    ('"private_key_id": "0123456789abcdef0123456789abcdef01234567",', "0123456789abcdef0123456789abcdef01234567", None),
    ("ya29.a0AfH6SMBx3exampleexampleexampleexample", "ya29.a0AfH6SMBx3exampleexampleexampleexample", "gcp-oauth-token"),
    ("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + "Ab1+" * 22 + ";EndpointSuffix=core.windows.net",
     "Ab1+" * 22, None),
    ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=abcDEF123ghiJKL456mnoPQR789stu=",
     "abcDEF123ghiJKL456mnoPQR789stu=", None),
    ("GET https://acct.blob.core.windows.net/c/b?sv=2020-08-04&sig=AbCdEf0123456789AbCdEf0123456789%3D&se=2030", "AbCdEf0123456789AbCdEf0123456789", None),
    ("postgres://app:s3cr3tP4ss@db.internal:5432/app", "s3cr3tP4ss", "url-password"),
    ("mysql://root:hunter2@127.0.0.1/test", "hunter2", None),
    ("Connecting to amqp://guest:Gu3stPw!@rabbit:5672//", "Gu3stPw!", None),
    ("Server=db;Database=app;User Id=sa;Password=Str0ng!Pass;", "Str0ng!Pass", None),
    ("DB_PASSWORD=correcthorsebattery", "correcthorsebattery", None),
    ("  password: 'p@ssw0rd-123'", "p@ssw0rd-123", None),
    ('{"client_secret": "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}', "9f8e7d6c5b4a39281706f5e4d3c2b1a0", None),
    ("API_KEY=4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c", "4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c", None),
    ("secret_key: Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1", "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1", None),
    ("Proxy-Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", "dXNlcjpwYXNzd29yZDEyMw==", None),
    ("> Authorization: Basic YWRtaW46c3VwZXJzZWNyZXQ=", "YWRtaW46c3VwZXJzZWNyZXQ=", None),
    ("X-Api-Key: 0a1b2c3d4e5f6a7b8c9d", "0a1b2c3d4e5f6a7b8c9d", None),
    ("PRIVATE-TOKEN: zyx987wvu654tsr321", "zyx987wvu654tsr321", None),
    ("docker login -u ci -p Dck3rP4ssw0rd registry.example.com", "Dck3rP4ssw0rd", None),
    ("mysql --user=root --password=T0pS3cret! -e 'select 1'", "T0pS3cret!", None),
    ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc", "stripe-key"),
    ("SG." + "a" * 22 + "." + "b" * 43, "a" * 22, "sendgrid-key"),
    ("HF_TOKEN=hf_" + "abcdefghijklmnopqrstuvwxyzABCDEF", "hf_abcdefghij", None),
    ("2024-05-01T10:00:00.0000000Z ##[debug]token=" + GH, GH, None),
    ("\x1b[31mERROR\x1b[0m bad credentials for " + GH, GH, None),
]


@pytest.mark.parametrize("line,secret,kind", CORPUS, ids=[f"case{i}" for i in range(len(CORPUS))])
def test_planted_secret_is_redacted(line, secret, kind):
    r = redact(line)
    assert secret not in r.text
    assert r.count >= 1
    assert "[REDACTED:" in r.text
    if kind:
        assert kind in r.kinds


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 40


def test_private_key_block_spanning_lines_is_redacted_line_for_line():
    text = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x\nQ2hlY2sgdGhpcw==\n-----END RSA PRIVATE KEY-----\nafter"
    r = redact(text)
    assert "MIIEowIBAAKCAQEA7x" not in r.text and "Q2hlY2sgdGhpcw==" not in r.text
    assert r.text.split("\n")[0] == "before" and r.text.split("\n")[-1] == "after"
    assert len(r.text.split("\n")) == len(text.split("\n"))  # line numbers stay aligned
    assert "private-key" in r.kinds


def test_unterminated_private_key_runs_to_the_end():
    r = redact("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA")
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in r.text


def test_key_block_tracker_follows_a_stream():
    t = KeyBlockTracker()
    flags = [t.feed(x) for x in ["a", "-----BEGIN EC PRIVATE KEY-----", "MHcCAQEE", "-----END EC PRIVATE KEY-----", "b"]]
    assert flags == [False, True, True, True, False]


@pytest.mark.parametrize("line", [
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "password: ********",
    "export SECRET=[secure]",
    "Setting environment variables from repository settings",
    "[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/foo/1.0/foo-1.0.pom",
    "error: failed to push some refs to 'git@github.com:org/repo.git'",
    "Tests run: 10, Failures: 1, Errors: 0, Skipped: 0",
    "KeyError: 'token'",
    "  File \"/usr/lib/python3/dist-packages/keyring/backend.py\", line 12",
    "checking for a BSD-compatible install... /usr/bin/install -c",
    "commit 3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c",
])
def test_ordinary_lines_are_unchanged(line):
    assert redact(line).text == line


def test_real_log_lines_are_rarely_altered(datasets):
    """At most 1 in 1,000 ordinary lines from real CI logs changes (sample over all three sets)."""
    rng = random.Random(3)
    paths = []
    for name in ("logchunks", "cidiff", "bugswarm"):
        with open(datasets / f"{name}.jsonl") as fh:
            paths += [datasets / json.loads(row)["log"] for row in fh]
    lines: list[str] = []
    for path in rng.sample(paths, 60):
        text = gzip.open(path).read().decode("utf-8", "replace").splitlines()
        lines += rng.sample(text, min(len(text), 500))
    altered = [x for x in lines if redact(x).text != x]
    assert len(lines) > 10_000
    assert len(altered) / len(lines) <= 0.001, altered[:20]
