"""The markers are true: ``-m "not realdata"`` runs without the ONS files, ``-m "not browser"``
without Chromium, ``-m "not slow"`` in a few minutes (issue 19).

The rules live in ``tests/conftest.py`` (``_markers_are_true``); these tests check them: every
collected test that asks for the ONS files is marked, and the rules fail a test that breaks
them, in a pytest run of their own (``pytester``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import uses_real_data

TESTS = Path(__file__).resolve().parent


def test_every_collected_test_that_asks_for_the_ons_files_is_marked_realdata(
    request: pytest.FixtureRequest,
) -> None:
    """Over the whole session's collection (every test file in a full run)."""
    unmarked = [
        item.nodeid
        for item in request.session.items
        if uses_real_data(item) and item.get_closest_marker("realdata") is None
    ]
    assert unmarked == []


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytest project with this suite's conftest files and helpers, and a fake data folder
    (``COTERMINUS_DATA_DIR``)."""
    pytester.makeconftest((TESTS.parent / "conftest.py").read_text(encoding="utf-8"))
    sub = pytester.mkdir("t")
    for name in ("conftest.py", "helpers.py", "browser.py", "message_budget.py"):
        (sub / name).write_text((TESTS / name).read_text(encoding="utf-8"), encoding="utf-8")
    data = pytester.path / "data"
    (data / "boundaries").mkdir(parents=True)
    pytester.makeini(
        """
        [pytest]
        markers =
            realdata: needs the ONS files
            browser: needs a headless chromium
            slow: takes more than a few seconds
        """
    )
    monkeypatch.setenv("COTERMINUS_DATA_DIR", str(data))
    return pytester


CASES = """
import os, pytest
import browser

def test_asks_for_the_files_unmarked(data_dir):
    assert data_dir.is_dir()

@pytest.mark.realdata
def test_asks_for_the_files_marked(data_dir):
    assert data_dir.is_dir()

def test_unmarked_sees_no_files():
    assert os.environ["COTERMINUS_DATA_DIR"] == ""

@pytest.mark.realdata
def test_marked_sees_the_files():
    assert os.environ["COTERMINUS_DATA_DIR"].endswith("data")

def test_starts_chromium_unmarked():
    browser.chromium_path()
"""


def test_the_rules_fail_the_tests_that_break_them_and_only_those(suite: pytest.Pytester) -> None:
    (suite.path / "t" / "test_case.py").write_text(CASES, encoding="utf-8")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-rA", "t")
    result.assert_outcomes(passed=3, failed=1, errors=1)
    result.stdout.fnmatch_lines_random(
        [
            "*::test_asks_for_the_files_unmarked uses the ONS files (the data_dir fixture) "
            "but is not marked realdata*",
            "*::test_starts_chromium_unmarked starts Chromium but is not marked browser*",
            "PASSED *test_asks_for_the_files_marked",
            "PASSED *test_unmarked_sees_no_files",
            "PASSED *test_marked_sees_the_files",
        ]
    )
