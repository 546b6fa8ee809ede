"""Secret redaction: a planted corpus is fully caught, ordinary log lines are left alone."""
from __future__ import annotations

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
    (f"Using credentials {AWS_ID}:{AWS_SECRET}", AWS_SECRET, None),
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
    # Command-line secrets: each of these once survived redaction.
    ("+ curl -fsSL -u deploy:Cu7lPassw0rd https://nexus.example.com/repo", "Cu7lPassw0rd", "cli-password"),
    ("curl --user :glpat0nlyT0ken https://x", "glpat0nlyT0ken", "cli-password"),
    ("mysql -h db -uroot -pMyS3cretPw -e 'show databases'", "MyS3cretPw", "cli-password"),
    ("machine nexus.example.com login ci password N3trcPassw0rd", "N3trcPassw0rd", "netrc-password"),
    ("  password N3trcLinePw", "N3trcLinePw", "netrc-password"),
    ("sshpass -p 'Ss33mSpKyo2XAc' ssh deploy@10.0.0.5", "Ss33mSpKyo2XAc", "cli-password"),
    ("redis-cli -h cache -a R3disAuthPw ping", "R3disAuthPw", "cli-password"),
    ("sqlcmd -S db -U sa -P 'SqlCmdPw9!' -Q 'select 1'", "SqlCmdPw9!", "cli-password"),
    ("mongosh --host m -u admin -p M0ngoPw42 --authenticationDatabase admin", "M0ngoPw42", "cli-password"),
    ("openssl pkcs12 -export -passout pass:Pkcs12Pw77 -out cert.p12", "Pkcs12Pw77", "cli-password"),
    ("ldapsearch -x -D cn=admin -w LdapBindPw1 -b dc=example", "LdapBindPw1", "cli-password"),
    ("smbclient //srv/share -U ci%SmbPassw0rd", "SmbPassw0rd", "cli-password"),
    ("helm registry login ghcr.io -u bot -p H3lmRegPw", "H3lmRegPw", "cli-password"),
    ("keytool -importkeystore -srcstorepass Ks7orePw -deststorepass Ks7orePw2", "Ks7orePw", "cli-password"),
    ("wget --http-password=WgetPw123 https://x/file", "WgetPw123", "cli-password"),
    ("kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-unsafe-skip-ca-verification",
     "abcdef.0123456789abcdef", None),
    ("gh auth login --with-token < /dev/null; terraform login --token Tf0kenV4lue99", "Tf0kenV4lue99", "cli-token"),
    ("mvn sonar:sonar -Dsonar.login=0123456789abcdef0123", "0123456789abcdef0123", "sonar-token"),
    # Service tokens (gitleaks' families).
    ("VAULT_TOKEN: hvs.CAESIJlWh0mQk3Xz7sampleSampleSample1", "hvs.CAESIJlWh0mQk3Xz7sample", "vault-token"),
    ("using sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_aa", "sk-ant-api03-AbCdEfGhIjKl", "anthropic-key"),
    ("OPENAI sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "sk-proj-AbCdEfGhIjKlMnOp", "openai-key"),
    ("notify https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789-abc",
     "AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789", "discord-webhook"),
    ("shpat_" + "0123456789abcdef" * 2, "shpat_0123456789abcdef", "shopify-token"),
    ("ATATT3xFfGF0" + "Ab1_" * 20, "ATATT3xFfGF0Ab1_", "atlassian-token"),
    ("lin_api_" + "A1b2C3d4E5" * 4, "lin_api_A1b2C3d4E5", "linear-key"),
    ("DOPPLER dp.pt." + "Ab1" * 14 + "X", "dp.pt.Ab1Ab1", "doppler-token"),
    ("dapi" + "0123456789abcdef" * 2, "dapi0123456789abcdef", "databricks-token"),
    ("SENTRY_AUTH sntrys_" + "eyJpYXQiOjE2" * 5, "sntrys_eyJpYXQiOjE2", "sentry-token"),
    ("PMAK-" + "0123456789abcdef01234567" + "-" + "0123456789abcdef0123456789abcdef01", "PMAK-0123456789abcdef0123", "postman-key"),
    ("glsa_" + "A1b2C3d4" * 4 + "_0a1b2c3d", "glsa_A1b2C3d4", "grafana-token"),
    ("NRAK-" + "A1B2C3D4E5F6G7H8I9J0K1L2M3N", "NRAK-A1B2C3D4E5", "newrelic-key"),
    ("dop_v1_" + "0123456789abcdef" * 4, "dop_v1_0123456789abcdef", "digitalocean-token"),
    ("pul-" + "0123456789abcdef0123456789abcdef01234567", "pul-0123456789abcdef", "pulumi-token"),
    ("token AbCdEfGhIjKlMn.atlasv1." + "Ab1_" * 16, "atlasv1.Ab1_Ab1_", "terraform-token"),
    ("AGE-SECRET-KEY-1" + "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" + "QPZRY9X8GF2TVDW0S3JN54KHCE", "AGE-SECRET-KEY-1QPZRY9X8", "age-secret-key"),
    ("MAILGUN key-" + "0123456789abcdef" * 2, "key-0123456789abcdef", "mailgun-key"),
    ("figd_" + "AbCdEfGhIj" * 4, "figd_AbCdEfGhIj", "figma-token"),
    ("sbp_" + "0123456789abcdef0123456789abcdef01234567", "sbp_0123456789abcdef", "supabase-token"),
    ("CCIPAT_" + "AbCdEfGhIjKlMnOpQrStUv" + "_" + "0123456789abcdef" * 2 + "01234567", "CCIPAT_AbCdEfGhIjKlMn", "circleci-token"),
    ("ATBB" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123", "ATBBAbCdEfGhIjKlMnOp", "bitbucket-token"),
    ("client GOCSPX-" + "AbCdEfGhIjKlMnOpQrStUvWxYz01", "GOCSPX-AbCdEfGhIjKlMn", "gcp-oauth-secret"),
    ("AZURE_CLIENT abc8Q~" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456", "abc8Q~AbCdEfGhIj", "azure-ad-secret"),
    ("r8_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567890", "r8_AbCdEfGhIjKlMn", "replicate-token"),
    ("gsk_" + "AbCdEfGhIjKlMnOpQrStUvWxYz" * 2, "gsk_AbCdEfGhIjKlMn", "groq-key"),
    ("sqp_" + "0123456789abcdef0123456789abcdef01234567", "sqp_0123456789abcdef", "sonar-token"),
    ("rubygems_" + "0123456789abcdef" * 3, "rubygems_0123456789abcdef", "rubygems-key"),
    ("dt0c01." + "ABCDEFGHIJKLMNOPQRSTUVWX" + "." + "ABCDEFGHIJKLMNOP" * 4, "dt0c01.ABCDEFGHIJKL", "dynatrace-token"),
    ("pscale_tkn_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345", "pscale_tkn_AbCdEfGhIj", "planetscale-token"),
    ("X-Vault-Token: s.AbCdEf0123456789", "s.AbCdEf0123456789", "hashicorp-consul-token"),
    ("Circle-Token: 0123456789abcdef0123", "0123456789abcdef0123", "ci-api-token"),
    ("DD-API-KEY: 0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", None),
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
    kinds = {redact(line).kinds[0] for line, _, _ in CORPUS}
    assert len(kinds) >= 40, sorted(kinds)


def test_a_jwt_loses_its_signature_too():
    text = redact(f"[debug] jwt {JWT} accepted").text
    assert JWT.rsplit(".", 1)[1] not in text and text == "[debug] jwt [REDACTED:jwt] accepted"


@pytest.mark.parametrize("line", [
    "mysql -p", "mysql -h db -P 3306 -p\"$MYSQL_PW\"", "--token ${{ secrets.GITHUB_TOKEN }}",
    "curl -u \"$USER:$PASS\" https://x", "redis-cli -a $REDIS_PASSWORD ping", "password required",
    "docker login ghcr.io -u bot --password-stdin", "terraform apply -auto-approve -var-file=prod.tfvars",
    "sonar-scanner -Dsonar.host.url=https://sonar.example.com", "zip -r out.zip dist/",
])
def test_variable_references_and_ordinary_flags_are_left_alone(line):
    assert redact(line).text == line


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
    from training.finetune.reallogs import sample_lines

    lines = sample_lines(datasets, logs=60, per_log=500)
    altered = [x for x in lines if redact(x).text != x]
    assert len(lines) > 10_000
    assert len(altered) / len(lines) <= 0.001, altered[:20]


def test_a_leaked_password_is_never_named_as_an_identifier():
    from retrieval.logs.identifiers import identifiers

    line = "sshpass -p Ss33mSpKyo2XAc scp dist.tar.gz deploy@10.0.0.5:/srv  # exit 5: Permission denied"
    assert "Ss33mSpKyo2XAc" not in identifiers(line)  # even before redaction
    assert "Ss33mSpKyo2XAc" not in redact(line).text
    assert identifiers("getUserById2 failed in HttpClient5Test and fooBar") == [
        "getUserById2", "HttpClient5Test", "fooBar"]
