"""The one way coterminus writes a file: ``coterminus._atomic.atomic_path``."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from coterminus import _atomic
from coterminus._atomic import atomic_path, atomic_write
from coterminus.errors import OutputError


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under this umask, then put the old one back."""
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_success_moves_the_temporary_file_into_place(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".out.txt.")
        assert tmp.name.endswith(".part")
        assert tmp.read_bytes() == b""
        assert not target.exists()
        tmp.write_text("hello")
    assert target.read_text() == "hello"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_success_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_an_exception_leaves_no_file_and_the_old_file_intact(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    def write_half() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("half way")

    with pytest.raises(RuntimeError, match="half way"):
        write_half()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_an_exception_before_any_file_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "out.txt"):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def missing_folder(target: Path) -> str:
    folder = target.parent
    return (
        f"cannot write {target}: folder {folder} does not exist; create it first "
        f"(mkdir -p {folder}) or choose another --out."
    )


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.txt"
    with pytest.raises(OutputError, match=re.escape(missing_folder(target))), atomic_path(target):
        pytest.fail("the block must not run")
    assert list(tmp_path.iterdir()) == []


def test_a_path_under_a_regular_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("a regular file: nothing can be created below it, even by root")
    for target in (blocker / "out.txt", blocker / "sub" / "out.txt"):
        with (
            pytest.raises(OutputError, match=re.escape(missing_folder(target))),
            atomic_path(target),
        ):
            pytest.fail("the block must not run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_read_only_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):  # root writes anywhere: let the check answer as for a user
        monkeypatch.setattr(_atomic.os, "access", lambda p, mode: Path(p) != ro)
    try:
        msg = f"cannot write {ro / 'out.txt'}: folder {ro} is read-only; choose another --out."
        with pytest.raises(OutputError, match=re.escape(msg)), atomic_path(ro / "out.txt"):
            pytest.fail("the block must not run")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_a_temporary_file_that_cannot_be_created_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_atomic.tempfile, "mkstemp", refuse)
    target = tmp_path / "out.txt"
    with (
        pytest.raises(OutputError, match=re.escape(f"cannot write {target}: Permission denied;")),
        atomic_path(target),
    ):
        pytest.fail("the block must not run")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    with (
        pytest.raises(OutputError, match=r"unknown format '\.png'; use one of \.html, \.pdf"),
        atomic_path(tmp_path / "out.png", suffixes=(".html", ".pdf")),
    ):
        pytest.fail("the block must not run")
    with atomic_path(tmp_path / "OUT.HTML", suffixes=(".html", ".pdf")) as tmp:
        tmp.write_text("ok")
    assert (tmp_path / "OUT.HTML").read_text() == "ok"


def test_the_file_gets_the_mode_of_a_plain_open(tmp_path: Path, umask: int) -> None:
    with atomic_path(tmp_path / "out.txt") as tmp:
        assert stat.S_IMODE(tmp.stat().st_mode) == 0o600  # private while being written
        tmp.write_text("x")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask


def test_atomic_write_returns_the_path_and_cleans_up_after_the_writer(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    assert atomic_write(str(target), lambda p: p.write_bytes(b"\x00\x01")) == target
    assert target.read_bytes() == b"\x00\x01"

    def broken(p: Path) -> None:
        p.write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
