"""The one way coterminus writes a file: ``coterminus.data.atomic.atomic_path``."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from coterminus.data import atomic as _atomic
from coterminus.data.atomic import atomic_path, atomic_write
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
        named = (
            f"cannot write {target}: {blocker} is a file, not a folder; choose another --out (a "
            "file name in an existing folder)."
        )  # the file in the way is named: no `mkdir -p` could make that folder
        with pytest.raises(OutputError, match=re.escape(named)), atomic_path(target):
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

    with pytest.raises(OutputError, match="no space left on the device; nothing was written"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


# --- issue 10: every output path is safe -----------------------------------------------------------
def test_an_existing_folder_is_refused_with_a_file_name_to_use(tmp_path: Path) -> None:
    folder = tmp_path / "maps"
    folder.mkdir()
    msg = f"cannot write {folder}: it is a folder; give a file name inside it, e.g. --out {folder / 'output.html'}."
    with (
        pytest.raises(OutputError, match=re.escape(msg)),
        atomic_path(folder, suffixes=(".html",)),
    ):
        pytest.fail("the block must not run")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_is_refused_and_its_target_untouched(
    tmp_path: Path, dangling: bool
) -> None:
    real = tmp_path / "real.txt"
    if not dangling:
        real.write_text("keep me")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    msg = (
        f"cannot write {link}: it is a symbolic link (to {real.resolve()}); coterminus does not "
        f"write through links. Pass the real path (--out {real.resolve()}) or remove the link first."
    )
    with pytest.raises(OutputError, match=re.escape(msg)), atomic_path(link):
        pytest.fail("the block must not run")
    assert link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["link.txt"] if dangling else ["link.txt", "real.txt"]
    )
    if not dangling:
        assert real.read_text() == "keep me"


def test_a_folder_reached_through_a_link_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real")
    atomic_write(tmp_path / "via" / "out.txt", lambda p: p.write_text("ok"))
    assert (tmp_path / "real" / "out.txt").read_text() == "ok"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (28, "no space left on the device"),  # ENOSPC
        (122, "disk quota exceeded"),  # EDQUOT (Linux)
        (27, "file too large for the file system"),  # EFBIG
        (30, "read-only file system"),  # EROFS
    ],
)
def test_a_full_disk_while_writing_is_an_output_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str
) -> None:
    import errno as errno_mod

    assert errno_mod.errorcode[code]  # the numbers are Linux's
    target = tmp_path / "plan.parquet"
    target.write_text("old")
    real_replace = Path.replace

    def full(self: Path, other: Path) -> Path:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(Path, "replace", full)
    with pytest.raises(
        OutputError,
        match=re.escape(
            f"cannot write {target}: {reason}; nothing was written. Free space in {tmp_path} or choose another --out."
        ),
    ):
        atomic_write(target, lambda p: p.write_text("new"))
    monkeypatch.setattr(Path, "replace", real_replace)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.parquet"]


def test_an_unrelated_error_of_the_writer_keeps_its_type(tmp_path: Path) -> None:
    def broken(p: Path) -> None:
        raise FileNotFoundError(2, "No such file or directory", "input.csv")

    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "out.txt", broken)
    assert list(tmp_path.iterdir()) == []


def test_signal_handlers_are_installed_only_while_writing(tmp_path: Path) -> None:
    import signal

    before = {s: signal.getsignal(s) for s in _atomic._SIGNALS}
    with atomic_path(tmp_path / "a.txt") as tmp:
        assert all(
            signal.getsignal(s) is _atomic._on_signal
            for s in _atomic._SIGNALS
            if before[s] not in (signal.SIG_IGN, None)
        )
        with atomic_path(tmp_path / "b.txt") as inner:  # nested writes keep them
            inner.write_text("b")
        assert signal.getsignal(signal.SIGTERM) is _atomic._on_signal
        tmp.write_text("a")
    assert {s: signal.getsignal(s) for s in _atomic._SIGNALS} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


_CHILD = """
import sys, time
from pathlib import Path
from coterminus.data.atomic import atomic_path
target = Path(sys.argv[1])
with atomic_path(target) as tmp:
    with open(tmp, "wb") as handle:
        handle.write(b"x" * 100_000)
        handle.flush()
        print("writing", flush=True)
        for _ in range(600):  # short sleeps: a signal caught by another thread is handled at once
            time.sleep(0.1)
"""


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_mid_write_leaves_no_temporary_file(tmp_path: Path, signame: str) -> None:
    import signal
    import subprocess
    import sys

    out = tmp_path / "out"
    out.mkdir()
    target = out / "plan.parquet"
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(_atomic.__file__).parents[2])},
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "writing"
            assert [p.name.endswith(".part") for p in out.iterdir()] == [True]  # mid-write
            child.send_signal(getattr(signal, signame))
            code = child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    signum = getattr(signal, signame)
    assert code == -signum  # stopped by the signal itself (KeyboardInterrupt re-kills with SIGINT)
    assert list(out.iterdir()) == []
