"""Is what an answer names found in what it rests on? Files, dotted names, flags and commands
that appear in neither the log, the CI config, the retrieved notes nor the ecosystems' standard
tools are invented: the engine drops the sentences that name them, and the real-log training rows
(training/finetune/reallogs.py) are checked the same way.
"""
from __future__ import annotations

import re

from retrieval.logs.identifiers import identifiers
from retrieval.logs.wording import unknown_words

# Commands, files and names any engineer may name without the log naming them.
STANDARD = frozenset("""
npm yarn pnpm npx node package.json package-lock.json yarn.lock pip pip3 python python3 pytest tox
setup.py setup.cfg pyproject.toml requirements.txt mvn maven pom.xml gradle gradlew ./gradlew build.gradle
bundle bundler gem rake rspec Gemfile Gemfile.lock go.mod go.sum cargo Cargo.toml Cargo.lock make cmake
ctest Makefile CMakeLists.txt dotnet nuget msbuild docker Dockerfile docker-compose git .travis.yml
.gitlab-ci.yml Jenkinsfile composer composer.json phpunit mix rebar3 stack cabal swift xcodebuild pod
Podfile R CMD checkstyle checkstyle.xml flake8 pylint mypy black eslint tsc jest mocha karma
travis.yml travis_retry travis_wait before_install before_script osx_image README.md
PackageReference package.el /etc/hosts etc/hosts setUp tearDown toString assertEquals assertTrue
ls cd cat grep curl wget sudo apt apt-get brew chmod export echo bash sh env kubectl helm terraform nosetests
""".split())
STANDARD_LOWER = frozenset(s.lower() for s in STANDARD)
# Long flags of those tools that a fix may name without the log showing them.
STANDARD_FLAGS = frozenset("""
--debug --verbose --filter --tests --unshallow --no-cache --force --save --save-dev --frozen-lockfile
--legacy-peer-deps --upgrade --user --help --version --offline --refresh-dependencies --stacktrace
--info --fail-fast --lf --last-failed --exitfirst --ignore-scripts --production --prefer-offline
--update-snapshot --fix --check --diff --depth --recursive --no-deps --pre --clean
""".split())
# A backticked span is checked as a command when its first word looks like one.
_COMMAND = re.compile(r"^[a-z][\w.-]*$")
_FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*(?:=[^\s`'\"]+)?")
_CODE = re.compile(r"`([^`\n]{1,200})`")


def ungrounded(text: str, support: str) -> list[str]:
    """What `text` names (files, dotted names, flags, backticked commands) that neither `support`
    nor the standard tools name, in order, each once."""
    haystack = (support or "").lower()
    missing: list[str] = []

    def check(name: str) -> None:
        bare = name.strip("`'\"()[],;.")
        if "=" in bare:  # "-Dtest=CallTest": the value is what the support must name
            bare = bare.rsplit("=", 1)[-1]
        if not bare or bare in missing or _known(bare, haystack):
            return
        missing.append(bare)

    for name in identifiers(text):
        check(name)
    for flag in _FLAG.findall(text):
        # short flags ("-p") are too often prose; "--name=value" is checked by its value
        if len(flag) > 3 and flag.startswith("--") and flag.split("=", 1)[0] not in STANDARD_FLAGS:
            check(flag)
    for code in _CODE.findall(text):
        words = code.split()
        if len(words) >= 2 and _COMMAND.match(words[0]):  # `cmd args`, not `#if` or `super`
            check(words[0])
    return missing


def _known(name: str, haystack: str) -> bool:
    low = name.lower()
    if name in STANDARD or low in STANDARD_LOWER or low in haystack:
        return True
    # "foo.py:12" -> "foo.py" may be all the log has; so may the last path part.
    parts = [name.split(":")[0], name.rsplit("/", 1)[-1], name.rsplit(".", 1)[-1]]
    if any(len(p) >= 4 and p.lower() in haystack for p in parts):
        return True
    words = name.split("/")  # "async/await", "network/TLS": words joined by a slash, not a path
    return len(words) == 2 and "." not in name and all(w.isalpha() or w.lower() in haystack for w in words)


SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")


def grounded_sentences(text: str, support: str, words: bool = False) -> tuple[str, list[str]]:
    """`text` without the sentences that name something ungrounded (and with `words`, those with a
    word neither the support nor the word list has: a model's garbled word); returns (kept text,
    names)."""
    kept, dropped = [], []
    for sentence in SENTENCE.split(text.strip()):
        bad = ungrounded(sentence, support) + (unknown_words(sentence, support) if words else [])
        if bad:
            dropped += [b for b in bad if b not in dropped]
        else:
            kept.append(sentence)
    return " ".join(kept).strip(), dropped
