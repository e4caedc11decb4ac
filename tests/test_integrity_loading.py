"""Integrity on load, end to end: an edited population file is refused unless trusted, and then
every output says so; a footprint of nobody is an error, not a NaN."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import coterminus as ct
from coterminus import cli
from coterminus.analysis.assess import assess
from coterminus.analysis.metrics import footprint_metrics
from coterminus.analysis.overlap import population_overlap
from coterminus.data.integrity import reset
from coterminus.errors import ModifiedFileError, PopulationError

POP = "population/lsoa11_pop_mid2019_ew.csv"
RUGBY = "E07000220"


def _edited_data_dir(data_dir: Path, root: Path) -> Path:
    """A data directory of links to the real files, with Rugby's LSOAs set to 1 person."""
    for sub in ("boundaries", "lookups", "population"):
        (root / sub).mkdir(parents=True)
        for f in (data_dir / sub).iterdir():
            if f.is_file():
                (root / sub / f.name).symlink_to(f)
    lookup = pd.read_csv(data_dir / "lookups/lsoa11_ccg19_stp19_lad19_utla19_en.csv", dtype=str)
    rugby = set(lookup.loc[lookup["LAD19CD"] == RUGBY, "LSOA11CD"])
    pop = pd.read_csv(data_dir / POP, dtype=str)
    pop.loc[pop["LSOA11CD"].isin(rugby), "POP_ALL_AGES_MID2019"] = "1"
    (root / POP).unlink()
    pop.to_csv(root / POP, index=False)
    return root


@pytest.fixture(autouse=True)
def _untrusted():
    reset()
    yield
    reset()


@pytest.mark.realdata
def test_an_edited_population_file_is_refused_naming_the_fix(
    data_dir: Path, tmp_path: Path
) -> None:
    root = _edited_data_dir(data_dir, tmp_path / "d")
    with pytest.raises(
        ModifiedFileError, match=r"lsoa11_pop_mid2019_ew.csv has been modified.*--trust-modified"
    ):
        ct.load(2019, data_dir=root)


@pytest.mark.realdata
def test_trusted_edits_give_their_answer_and_every_output_says_so(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _edited_data_dir(data_dir, tmp_path / "d")
    assert cli.main(["assess", "--vintage", "2019", "--ccgs", "05A", "--data-dir", str(root)]) == 1
    assert "has been modified" in capsys.readouterr().err
    argv = ["assess", "--vintage", "2019", "--ccgs", "05A", "--data-dir", str(root)]
    code = cli.main([*argv, "--trust-modified"])
    out = capsys.readouterr().out
    assert code == 0
    assert "MODIFIED DATA" in out
    geo = ct.load(2019, data_dir=data_dir)  # the published data: J = 0.7733, not coterminous
    assert assess(geo, "05A").metrics.index == pytest.approx(371_521 / 480_456)


def test_a_footprint_of_nobody_is_an_error_not_a_nan() -> None:
    lsoa = pd.DataFrame(
        {"ccg": ["A", "B"], "utla": ["X", "X"], "population": [0, 100]}, index=["l1", "l2"]
    )
    table = population_overlap(lsoa, "ccg", "utla")
    with pytest.raises(PopulationError, match=r"no people.*0/0"):
        footprint_metrics(table, ["A"])
    assert footprint_metrics(table, ["B"]).index == 1.0
