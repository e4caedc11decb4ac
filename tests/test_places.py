"""Places: LA populations against 250k–500k and the best contiguous groupings."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import coterminus as ct
from coterminus.analysis.places import places
from coterminus.errors import EnumerationTooLargeError, ParameterError
from coterminus.geography.bundle import Geography
from coterminus.partitions import subset_sums
from coterminus.vocabulary.levels import default_level


@pytest.fixture
def row_of_four() -> Geography:
    """Four lower-tier LAs in a row, one CCG "F" over all of them, two counties::

    a b | c d        populations 100k 200k | 150k 600k
    county X  | county Y
    """
    codes = ["a", "b", "c", "d"]
    pops = [100_000, 200_000, 150_000, 600_000]
    geom = [shapely.box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(4)]
    ltla = gpd.GeoDataFrame(
        {"name": [f"LA {c}" for c in codes], "population": pops, "utla": ["X", "X", "Y", "Y"]},
        geometry=geom,
        index=pd.Index(codes, name="code"),
        crs=27700,
    )
    lsoa = pd.DataFrame(
        {"ccg": "F", "stp": "S", "ltla": codes, "utla": ["X", "X", "Y", "Y"], "population": pops},
        index=[f"l{c}" for c in codes],
    )
    levels = [
        default_level("ccg", block="lsoa11"),
        default_level("ltla", block="lsoa11", parent="utla"),
        default_level("utla", block="lsoa11"),
    ]
    return Geography(2019, lsoa, levels=levels, ltla=ltla)


def test_subset_sums_of_place_populations() -> None:
    v = np.array([3, 5, 7])
    out = subset_sums(v)
    for mask in range(8):
        assert out[mask] == sum(v[i] for i in range(3) if mask >> i & 1)


def test_best_grouping_of_a_row_of_four_councils(row_of_four: Geography) -> None:
    p = places(row_of_four, ["F"])
    assert p.las["band"].to_dict() == {"d": "above", "b": "below", "c": "below", "a": "below"}
    assert p.n_groupings == 8  # contiguous groupings of a path of 4 = 2³
    best = p.groupings[p.groupings["rank"] == 1]
    # {a,b,c} = 450k is in band, d = 600k is not: 600k people outside, the minimum possible
    assert sorted(map(sorted, p.best())) == [["a", "b", "c"], ["d"]]
    assert best["people_outside_band"].iloc[0] == 600_000
    abc = best[best["las"].map(lambda x: tuple(sorted(x))) == ("a", "b", "c")]
    assert abc["crosses_utla"].item()
    assert abc["population"].item() == 450_000
    assert "1 place(s)" not in p.explain()
    assert "600,000 people are in places outside the band" in p.explain()


def test_band_is_a_parameter(row_of_four: Geography) -> None:
    p = places(row_of_four, ["F"], band=(100_000, 700_000))
    assert p.groupings[p.groupings["rank"] == 1]["people_outside_band"].iloc[0] == 0
    with pytest.raises(ParameterError, match="band="):
        places(row_of_four, ["F"], band=(500_000, 250_000))


def test_too_many_councils_is_refused_with_the_reason(row_of_four: Geography) -> None:
    with pytest.raises(
        EnumerationTooLargeError, match=r"holds 4 whole lower-tier councils.*Bell\(4\)"
    ):
        places(row_of_four, ["F"], max_las=3)


@pytest.mark.realdata
def test_coventry_and_warwickshire_places(data_dir) -> None:
    geo = ct.load(2019, data_dir=data_dir)
    a = ct.assess(geo, system="Coventry and Warwickshire")
    p = a.places()
    assert p.las.loc["E08000026", "band"] == "in band"  # Coventry, 371,521
    assert (p.las.drop("E08000026")["band"] == "below").all()
    assert p.las["population"].sum() == 949_454
    best = p.groupings[p.groupings["rank"] == 1]
    assert best["in_band"].all()
    assert best["population"].sum() == 949_454
    assert not best["crosses_utla"].any()
    assert sorted(best["population"]) == [273_851, 304_082, 371_521]
    assert p.excluded.empty
