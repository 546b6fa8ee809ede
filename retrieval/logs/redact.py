"""Replace secrets in log text with typed placeholders such as `[REDACTED:github-token]`.

Token formats come from detect-secrets' maintained plugin regexes where they exist; the rest
(cloud keys it lacks, passwords in URLs and connection strings, Authorization headers, secret-looking
assignments, private key blocks spanning lines) are added here. Every line of an excerpt goes
through `redact`, so the common case (no secret) must cost one cheap prefilter search.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

PLACEHOLDER = "[REDACTED:{}]"


@dataclass(frozen=True)
class Redacted:
    text: str
    count: int
    kinds: tuple[str, ...]


def _detect_secrets_patterns() -> list[tuple[str, re.Pattern]]:
    """(kind, regex) pairs taken from detect-secrets plugins, so formats stay maintained upstream."""
    from detect_secrets.plugins import (
        artifactory,
        aws,
        azure_storage_key,
        discord,
        github_token,
        gitlab_token,
        jwt,
        mailchimp,
        npm,
        openai,
        pypi_token,
        sendgrid,
        slack,
        square_oauth,
        stripe,
        telegram_token,
        twilio,
    )

    table = [
        ("aws-access-key", [aws.AWSKeyDetector.denylist[0]]),
        ("github-token", github_token.GitHubTokenDetector.denylist),
        ("gitlab-token", gitlab_token.GitLabTokenDetector.denylist),
        ("slack-token", slack.SlackDetector.denylist),
        ("npm-token", npm.NpmDetector.denylist),
        ("pypi-token", pypi_token.PypiTokenDetector.denylist),
        ("jwt", jwt.JwtTokenDetector.denylist),
        ("stripe-key", stripe.StripeDetector.denylist),
        ("sendgrid-key", sendgrid.SendGridDetector.denylist),
        ("discord-token", discord.DiscordBotTokenDetector.denylist),
        ("telegram-token", telegram_token.TelegramBotTokenDetector.denylist),
        ("twilio-key", twilio.TwilioKeyDetector.denylist),
        ("mailchimp-key", mailchimp.MailchimpDetector.denylist),
        ("square-token", square_oauth.SquareOAuthDetector.denylist),
        ("openai-key", openai.OpenAIDetector.denylist),
        ("azure-storage-key", azure_storage_key.AzureStorageKeyDetector.denylist),
        ("artifactory-token", artifactory.ArtifactoryDetector.denylist),
    ]
    return [(kind, rx) for kind, rxs in table for rx in rxs]


# Passwords and tokens given to common command-line tools on their command line (gitleaks'
# "generic" family, made specific per tool so that ordinary flags stay untouched). A value that
# is a variable reference ($VAR, ${{ secrets.X }}, %VAR%) is not a secret and is left alone.
_VALUE = r"['\"]?(?P<v>(?![$%{<\[])[^\s'\"]+)"
_CLI_SECRETS = [
    ("cli-password", r"\bcurl\b[^\n]*?\s(?:-u|--user)\s*['\"]?[^\s:'\"]*:" + _VALUE),
    ("cli-password", r"\bmysql(?:dump|admin|import|sh|check)?\b[^\n]*?\s-p(?P<v>(?![$%{<\s-])[^\s'\"]+)"),
    ("cli-password", r"\bsshpass\b[^\n]*?\s-p\s*" + _VALUE),
    ("cli-password", r"\bredis-cli\b[^\n]*?\s(?:-a|--pass)\s+" + _VALUE),
    ("cli-password", r"\b(?:sqlcmd|bcp|osql)\b[^\n]*?\s-P\s*" + _VALUE),
    ("cli-password", r"\b(?:mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport)\b[^\n]*?\s-p\s+" + _VALUE),
    ("cli-password", r"\bopenssl\b[^\n]*?\s-pass(?:in|out)?\s+['\"]?pass:(?P<v>[^\s'\"]+)"),
    ("cli-password", r"\bldap\w+\b[^\n]*?\s-w\s+" + _VALUE),
    ("cli-password", r"\bsmbclient\b[^\n]*?(?:-U\s*|--user[= ])[^\s%]+%(?P<v>[^\s'\"]+)"),
    ("cli-password", r"\bhtpasswd\s+-[a-zA-Z]*b[a-zA-Z]*\s+\S+\s+\S+\s+" + _VALUE),
    ("cli-password", r"\b(?:az|helm|oras|podman|buildah|skopeo|nerdctl|crane|cosign)\b[^\n]*?\blogin\b[^\n]*?\s-p\s+" + _VALUE),
    ("cli-password", r"\bzip\b[^\n]*?\s-P\s+" + _VALUE),
    ("cli-password", r"\b7za?\b[^\n]*?\s-p(?P<v>[^\s'\"-][^\s'\"]{2,})"),
    ("cli-password", r"\s-(?:src|dest|new)?(?:store|key)pass\s+" + _VALUE),  # keytool, jarsigner
    ("cli-password", r"\brabbitmqctl\s+(?:add_user|change_password)\s+\S+\s+" + _VALUE),
    ("cli-password", r"--(?:http-|ftp-|proxy-)pass(?:word|wd)?[= ]" + _VALUE),
    ("cli-token", r"--(?:token|auth-token|api-token|api-key|apikey|access-token|secret|client-secret|secret-key"
                  r"|passphrase|certificate-key|private-token|bot-token|webhook-secret)[= ]" + _VALUE),
    ("kubeadm-token", r"\bkubeadm\b[^\n]*?\s(?P<v>[a-z0-9]{6}\.[a-z0-9]{16})\b"),
    ("netrc-password", r"\bmachine\s+\S+\s+(?:login\s+\S+\s+)?password\s+" + _VALUE),
    # a .netrc's own "password X" line; a value of plain lowercase words is prose ("password required")
    ("netrc-password", r"^\s*password\s+(?P<v>(?![$%{<\[*])(?=\S*[^a-z\s])[^\s'\"]+)\s*$"),
    ("sonar-token", r"-Dsonar\.(?:login|token|password)=" + _VALUE),
]
# Token formats of common services, after gitleaks' default rules (github.com/gitleaks/gitleaks,
# config/gitleaks.toml, MIT), where detect-secrets has no plugin.
_SAAS_TOKENS = [
    ("vault-token", r"\bhv[sbr]\.[A-Za-z0-9_-]{20,}"),
    ("anthropic-key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
    ("openai-key", r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"),
    ("discord-webhook", r"discord(?:app)?\.com/api/webhooks/\d+/(?P<v>[A-Za-z0-9_-]{20,})"),
    ("shopify-token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    ("atlassian-token", r"\bATATT3[A-Za-z0-9_=-]{60,}"),
    ("linear-key", r"\blin_(?:api|oauth)_[A-Za-z0-9]{40}\b"),
    ("doppler-token", r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}\b"),
    ("databricks-token", r"\bdapi[a-f0-9]{32}(?:-\d)?\b"),
    ("sentry-token", r"\bsntry[su]_[A-Za-z0-9+/=_-]{40,}"),
    ("postman-key", r"\bPMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}\b"),
    ("grafana-token", r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b|\bglc_[A-Za-z0-9+/]{32,}={0,2}"),
    ("newrelic-key", r"\bNRAK-[A-Z0-9]{27}\b"),
    ("digitalocean-token", r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
    ("pulumi-token", r"\bpul-[a-f0-9]{40}\b"),
    ("terraform-token", r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}"),
    ("age-secret-key", r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b"),
    ("mailgun-key", r"\bkey-[0-9a-f]{32}\b"),
    ("figma-token", r"\bfigd_[A-Za-z0-9_-]{40}"),
    ("heroku-api-key", r"\bHRKU-[A-Za-z0-9_-]{20,}"),
    ("flyio-token", r"\bfo1_[A-Za-z0-9_-]{43}\b|\bFlyV1 fm\d_[A-Za-z0-9+/=,_-]{60,}"),
    ("supabase-token", r"\bsbp_[a-f0-9]{40}\b"),
    ("circleci-token", r"\bCCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}\b"),
    ("bitbucket-token", r"\bATBB[A-Za-z0-9_=.-]{28,}"),
    ("gcp-oauth-secret", r"\bGOCSPX-[A-Za-z0-9_-]{28}"),
    ("azure-ad-secret", r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])"),
    ("replicate-token", r"\br8_[A-Za-z0-9]{37}\b"),
    ("groq-key", r"\bgsk_[A-Za-z0-9]{52}\b"),
    ("perplexity-key", r"\bpplx-[A-Za-z0-9]{48}\b"),
    ("xai-key", r"\bxai-[A-Za-z0-9]{80}\b"),
    ("sonar-token", r"\bsq[pau]_[a-f0-9]{40}\b"),
    ("rubygems-key", r"\brubygems_[a-f0-9]{48}\b"),
    ("nuget-key", r"\boy2[a-z0-9]{43}\b"),
    ("slack-token", r"\bxoxe(?:\.xox[bp])?-\d-[A-Z0-9]{100,}"),
    ("dynatrace-token", r"\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b"),
    ("planetscale-token", r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9=._-]{32,64}"),
    ("prefect-key", r"\bpnu_[A-Za-z0-9]{36}\b"),
    ("easypost-key", r"\bEZ[AT]K[a-zA-Z0-9]{54}\b"),
    ("hashicorp-consul-token", r"(?i:x-consul-token|x-vault-token|x-nomad-token)[\"']?\s*:\s*[\"']?(?P<v>[^\s\"',;]{8,})"),
    ("ci-api-token", r"(?i:circle-token|x-circleci-token|travis-api-token|dd-api-key|dd-application-key"
                     r"|x-figma-token|x-shopify-access-token|x-jfrog-art-api)[\"']?\s*[:=]\s*[\"']?(?P<v>[^\s\"',;]{8,})"),
]
# Formats detect-secrets lacks. A group named `v` marks the part to hide; otherwise the whole match.
_SECRET_NAME = (
    r"(?i:[A-Za-z0-9_.-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|credentials?|auth[_-]?key|signing[_-]?key|encryption[_-]?key"
    r"|session[_-]?key|account[_-]?key|sas[_-]?key)[A-Za-z0-9_.-]*)"
)
_EXTRA = [
    ("github-token", r"github_pat_[A-Za-z0-9_]{22,}"),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("gcp-api-key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("gcp-oauth-token", r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    ("gcp-service-account-key", r"\"private_key_id\"\s*:\s*\"(?P<v>[0-9a-f]{40})\""),
    ("azure-connection-string", r"(?:SharedAccessKey|AccountKey)=(?P<v>[A-Za-z0-9+/=]{20,})"),
    ("azure-sas-token", r"[?&]sig=(?P<v>[A-Za-z0-9%+/=]{20,})"),
    ("aws-secret-key", r"(?i:aws_?secret_?(?:access_?)?key(?:_id)?)[\"']?\s*[:=]\s*[\"']?(?P<v>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
    ("aws-secret-key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}:(?P<v>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),  # id:secret
    ("aws-session-token", r"(?i:aws_?session_?token)[\"']?\s*[:=]\s*[\"']?(?P<v>[A-Za-z0-9/+=]{100,})"),
    ("slack-token", r"\bxapp-\d-[A-Z0-9]+-\d+-[a-f0-9]+"),
    ("heroku-api-key", r"(?i:heroku_?api_?key)[\"']?\s*[:=]\s*[\"']?(?P<v>[0-9a-f-]{36})"),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}"),
    ("docker-hub-token", r"\bdckr_pat_[A-Za-z0-9_\-]{20,}"),
    ("url-password", r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]+:(?P<v>[^\s@/'\"]{1,200})@[^\s]"),
    ("authorization", r"(?i:authorization|proxy-authorization)[\"']?\s*[:=]\s*[\"']?(?:(?i:bearer|basic|token|digest|bot|aws4-hmac-sha256)\s+)?(?P<v>[^\s\"',;]{6,})"),
    ("bearer-token", r"(?i:\bbearer)\s+(?P<v>[A-Za-z0-9_\-.~+/]{16,}=*)"),
    ("api-key-header", r"(?i:x-api-key|x-auth-token|private-token|x-gitlab-token|api-token)[\"']?\s*:\s*[\"']?(?P<v>[^\s\"',;]{8,})"),
    ("connection-string-password", r"(?i:\b(?:password|pwd))\s*=\s*(?P<v>[^;\s'\"]{1,200})(?=;|\s*$|['\"])"),
    ("cli-password", r"(?:--password[= ]|--passwd[= ]|\bdocker login\b.*?\s-p\s?)(?P<v>[^\s'\"]{4,})"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}=*"),  # the signature too
] + _CLI_SECRETS + _SAAS_TOKENS
# `name = value` where the name looks secret. Passwords count at any length; other names need a
# random-looking value, because "token: string" and "secret_key_base: 64 chars" are ordinary text.
_ASSIGN = re.compile(
    r"(?P<name>" + _SECRET_NAME + r")[\"']?\s*(?:=|:=|:|=>)\s*[\"']?(?P<v>[^\s\"',;()<>{}\[\]]{4,})"
)
_PASSWORD_NAME = re.compile(r"(?i)passw(?:or)?d|passwd|pwd")
_NOT_A_VALUE = re.compile(
    r"(?i)^(?:\*+|x{3,}|\.{3,}|true|false|null|none|nil|undefined|required|optional|string|str|bool"
    r"|boolean|int|integer|number|yes|no|on|off|env|secret|password|changeme|example|dummy|test"
    r"|redacted|hidden|masked|secure|\[secure\]|\$\w+|\$\{.*|%\w+%?|\{\{.*|<.*|\[.*|https?|file)$"
)
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.S,
)
PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-\d")
PRIVATE_KEY_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
# Cheap gate: a line that matches none of these cannot hold any secret recognised here.
def _prefilter(pattern: str):
    try:
        import re2

        return re2.compile(pattern)
    except Exception:  # google-re2 missing or the pattern outside its syntax: Python's engine
        return re.compile(pattern)


_PREFILTER_RX = (
    r"(?im)passw|passwd|pwd|secret|token|key|auth|bearer|hooks\.slack|login|://[^\s/]*@|sig=|AKIA|ASIA|A3T|ABIA|ACCA|gh[pousr]_"
    r"|github_pat|gl[a-z]*-|GR1348941|xox|xapp|eyJ|npm_|pypi-|AIza|ya29\.|sk_live|rk_live|SG\.|hf_|dckr_"
    r"|sq0|AC[a-z0-9]{32}|SK[a-z0-9]{32}|-us\d|\d{8,10}:|[MNO][a-zA-Z\d_-]{23,25}\.|AKC|AP[\dA-F]|T3BlbkFJ"
    # command-line secrets and the service token prefixes above (_CLI_SECRETS, _SAAS_TOKENS), each as
    # specific as the rule it gates: most log lines must fail this search
    r"|curl\s(?:.*\s)?(?:-u|--user)|mysql\w*\s(?:.*\s)?-p\S|sshpass|redis-cli|\b(?:sqlcmd|bcp|osql)\s|mongo\w*\s(?:.*\s)?-p\s"
    r"|pass(?:in|out)?\s+['\"]?pass:|ldap\w+\s(?:.*\s)?-w\s|smbclient|htpasswd|\bzip\s(?:.*\s)?-P\s|\b7za?\s(?:.*\s)?-p"
    r"|(?:store|key)pass\s|rabbitmqctl|kubeadm|machine\s.*password|^\s*password\s|-Dsonar|passphrase"
    r"|hv[sbr]\.|sk-(?:ant|proj|svcacct|admin)-|discord(?:app)?\.com/api/webhooks|shp(?:at|ca|pa|ss)_|ATATT3"
    r"|lin_(?:api|oauth)_|dp\.(?:pt|st|sa|ct|scim|audit)\.|dapi[a-f0-9]|sntry[su]_|PMAK-|glsa_|glc_|NRAK-"
    r"|do[opr]_v1_|pul-[a-f0-9]|atlasv1|AGE-SECRET|figd_|HRKU-|fo1_|FlyV1|sbp_|CCIPAT_|ATBB|GOCSPX-|\dQ~|r8_"
    r"|gsk_|pplx-|xai-|sq[pau]_|rubygems_|\boy2|dt0c01|pscale_|pnu_|EZ[AT]K|x-(?:vault|consul|nomad)-token"
    r"|circle-token|circleci-token|travis-api-token|dd-(?:api|application)-key|x-figma|x-shopify|jfrog-art"
)
# RE2 when installed: one linear DFA pass, whatever the number of alternatives (Python's engine
# tries each of them at every position, which would make the gate cost more than the rules behind it).
_PREFILTER = _prefilter(_PREFILTER_RX)


def _compile() -> list[tuple[str, re.Pattern]]:
    pats = [(k, re.compile(p, re.M)) for k, p in _EXTRA]
    return pats + _detect_secrets_patterns()


_PATTERNS: list[tuple[str, re.Pattern]] | None = None


def _patterns() -> list[tuple[str, re.Pattern]]:
    global _PATTERNS
    if _PATTERNS is None:
        _PATTERNS = _compile()
    return _PATTERNS


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _secret_value(name: str, value: str) -> bool:
    if _NOT_A_VALUE.match(value) or value.startswith(("[REDACTED:", "/")):
        return False
    if name.rsplit(".", 1)[-1] in ("PWD", "OLDPWD", "$PWD"):
        return False  # the shell's working directory, not a password
    if _PASSWORD_NAME.search(name):
        return True
    if len(value) < 12 or not any(c.isdigit() for c in value):
        return False
    return entropy(value) >= 3.3


def _spans_in_line(line: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for kind, rx in _patterns():
        for m in rx.finditer(line):
            if kind == "npm-token" and rx.groups:
                s, e = m.span(1)
            elif "v" in rx.groupindex and m.group("v") is not None:
                s, e = m.span("v")
            elif rx.groups and m.lastindex and kind in ("url-password",):
                s, e = m.span(1)
            else:
                s, e = m.span()
            if e > s and not line.startswith("[REDACTED:", s):
                spans.append((s, e, kind))
    for m in _ASSIGN.finditer(line):
        if _secret_value(m.group("name"), m.group("v")):
            spans.append((*m.span("v"), "secret-assignment" if not _PASSWORD_NAME.search(m.group("name")) else "password"))
    return spans


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping hits become one; the earliest, then longest, names the kind."""
    out: list[tuple[int, int, str]] = []
    for s, e, k in sorted(spans, key=lambda t: (t[0], -(t[1] - t[0]))):
        if out and s < out[-1][1]:
            ps, pe, pk = out[-1]
            out[-1] = (ps, max(pe, e), pk)
        else:
            out.append((s, e, k))
    return out


def redact_line(line: str) -> tuple[str, list[str]]:
    """One line (no private-key block state). Returns (text, kinds replaced)."""
    if not _PREFILTER.search(line):
        return line, []
    spans = _merge(_spans_in_line(line))
    if not spans:
        return line, []
    parts, last, kinds = [], 0, []
    for s, e, k in spans:
        parts.append(line[last:s])
        parts.append(PLACEHOLDER.format(k))
        kinds.append(k)
        last = e
    parts.append(line[last:])
    return "".join(parts), kinds


def _blank_key_block(m: re.Match) -> str:
    # One placeholder per line keeps the line count, so numbered excerpts stay aligned.
    return "\n".join(PLACEHOLDER.format("private-key") for _ in m.group(0).split("\n"))


def redact(text: str) -> Redacted:
    """Redacts every secret in `text` (one line or many). Line breaks are preserved."""
    kinds: list[str] = []
    if "PRIVATE KEY" in text or "PuTTY-User-Key" in text:
        text, n = _PRIVATE_KEY_BLOCK.subn(_blank_key_block, text)
        kinds += ["private-key"] * n
        if "PuTTY-User-Key-File" in text:
            text, n = re.subn(r"(?m)^PuTTY-User-Key-File-\d.*$", PLACEHOLDER.format("private-key"), text)
            kinds += ["private-key"] * n
    if "\n" in text:
        out = []
        for line in text.split("\n"):
            red, found = redact_line(line)
            out.append(red)
            kinds += found
        text = "\n".join(out)
    else:
        text, found = redact_line(text)
        kinds += found
    return Redacted(text, len(kinds), tuple(dict.fromkeys(kinds)))


_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@'\"<>]+@")


def strip_url_credentials(text: str) -> str:
    """`https://user:pass@host/x` -> `https://host/x`, wherever a URL appears in `text`."""
    return _URL_CREDENTIALS.sub(r"\1", text)


class KeyBlockTracker:
    """Follows a line stream and says which lines sit inside a private key block.

    A key split across lines is invisible to per-line redaction, so the streaming excerpt asks this
    tracker whether a line belongs to a BEGIN..END block (an unterminated block runs to the end).
    """

    def __init__(self) -> None:
        self.inside = False

    def feed(self, line: str) -> bool:
        """True when `line` is (part of) a private key block."""
        if self.inside:
            if PRIVATE_KEY_END.search(line):
                self.inside = False
            return True
        if PRIVATE_KEY_BEGIN.search(line):
            self.inside = not PRIVATE_KEY_END.search(line) and "PuTTY" not in line
            return True
        return False
