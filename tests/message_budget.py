"""A pytest plugin: no coterminus error message in the suite is longer than 1,000 characters.

Every :class:`coterminus.errors.CoterminusError` made while the suite runs is measured as it
is created (:func:`watch_messages` wraps the base class's ``__init__``); a test during which a
longer message was made fails, naming the error and the start of its message, even when the
test expected the error. Messages made outside a test of ``tests/`` (the docstring examples)
fail the session at its end. ``tests/conftest.py`` loads it for the whole suite; a test runs
it on its own (``pytest -p message_budget``) to show that it fails.

A message is one line a person reads: each problem once, a few examples and a count, the fix.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

#: The longest message allowed (characters).
LIMIT = 1_000
#: Long messages made and not yet blamed on a test: (error type, length, start of the text).
_seen: list[tuple[str, int, str]] = []


def watch_messages() -> None:
    """Measure every CoterminusError as it is made (once per process)."""
    from coterminus.errors import CoterminusError

    if getattr(CoterminusError, "_message_budget", False):
        return
    original = CoterminusError.__init__

    def __init__(self: Exception, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        text = str(self)
        if len(text) > LIMIT:
            _seen.append((type(self).__name__, len(text), text[:200]))

    CoterminusError.__init__ = __init__  # type: ignore[method-assign]
    CoterminusError._message_budget = True  # type: ignore[attr-defined]


def _report(found: list[tuple[str, int, str]]) -> str:
    return "; ".join(f"{kind} of {n:,} characters: {start!r}…" for kind, n, start in found)


def pytest_configure(config: pytest.Config) -> None:
    watch_messages()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    start = len(_seen)
    result = yield
    found = _seen[start:]
    del _seen[start:]
    if found:
        pytest.fail(
            f"an error message is longer than {LIMIT:,} characters: {_report(found)}",
            pytrace=False,
        )
    return result


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _seen:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"error messages longer than {LIMIT:,} characters outside the tests: "
                + _report(_seen),
                red=True,
            )
