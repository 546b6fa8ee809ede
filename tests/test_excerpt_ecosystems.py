"""The long tail of ecosystems the dev half has few logs of: the excerpt must hold each log's key
line even when it sits after hundreds of lines of install noise. The logs in tests/data/ecosystems
are written from each tool's documented output (not copied from any dataset)."""
from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.logs.excerpt import extract

DATA = Path(__file__).with_name("data") / "ecosystems"
KEY = {
    "appveyor-powershell.log": "Expected 1073741824, but got $null.",
    "dotnet-test.log": "Failed Billing.Tests.InvoiceTests.Discount_is_applied_once",
    "r-cmd-check.log": "checking for missing documentation entries ... WARNING",
    "vim-vader.log": "(3/6) [EXPECT] (X) Unexpected result",
    "cmake-ctest.log": "error: 'class geo::Polygon' has no member named 'area2'",
    "ruby-rspec.log": "1) Order#total applies the coupon once",
    "swift-xcode.log": "error: cannot find 'temperatureUnit' in scope",
    "minitest.log": "UserTest#test_email_is_normalised",
    "xcpretty.log": "unknown attribute 'objcMembers2'",  # a red cross, and no word "error"
    "haskell-tasty.log": "decodes nested arrays:",       # the status is at the end: "...  FAIL (0.03s)"
    "cli-usage.log": "unrecognized option '--jobs=4'",  # the usage text after it says "failed" often
    "mocha-progress.log": "expected 258 to equal 259",  # 30 progress-bar redraws after it
}
NOISE = "\n".join(f"Downloading https://mirror.example.org/pool/main/p/pkg{i}/pkg{i}_1.{i % 9}.0.tar.gz ({i % 97} kB)"
                  for i in range(600))


@pytest.mark.parametrize("name", sorted(KEY))
def test_the_key_line_of_a_long_tail_ecosystem_is_in_the_excerpt(name):
    log = NOISE + "\n" + (DATA / name).read_text()
    excerpt = extract(log.encode(), max_lines=12)
    assert any(KEY[name] in line.text for line in excerpt.lines), [ln.text for ln in excerpt.lines]
    assert excerpt.has_failure


def test_progress_bar_redraws_count_once():
    # mocha's progress reporter redraws its bar with a growing count of failures: one line of
    # the excerpt, not twenty, so the failure above and the exit below both fit
    excerpt = extract((DATA / "mocha-progress.log").read_bytes(), max_lines=30)
    bars = [ln.text for ln in excerpt.lines if "▬" in ln.text]
    assert len(bars) <= 2, bars
    assert any("npm ERR! Test failed" in ln.text for ln in excerpt.lines)


def test_a_refused_option_is_the_failure_not_the_usage_text_after_it():
    log = (DATA / "cli-usage.log").read_text()
    excerpt = extract(log.encode(), max_lines=30)
    lines = {ln.n: ln.text for ln in excerpt.lines}
    assert "unrecognized option '--jobs=4'" in lines[excerpt.focus[0]]
