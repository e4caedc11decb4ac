"""Write notebooks/05_icbs_and_strategic_authorities_2026.ipynb (cells only).

``python scripts/run_notebooks.py 05`` runs this script, then executes the notebook on the
data embedded in coterminus and commits its outputs (figures inline).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat as nbf

OUT = (
    Path(__file__).resolve().parents[1]
    / "notebooks"
    / "05_icbs_and_strategic_authorities_2026.ipynb"
)

cells = [
    nbf.v4.new_markdown_cell(
        "# ICBs and strategic authorities, 2026\n\n"
        "On 1 April 2026 the 42 ICBs became 36, and in September 2025 the government asked ICBs "
        "to be *coterminous with one or more strategic authorities wherever feasible*. This "
        "notebook scores the 36 ICBs of April 2026 against the 20 strategic authorities in force "
        "in December 2026 — which ICBs already are coterminous, which authorities are split "
        "between ICBs, and the smallest change that would make each ICB coterminous — draws the "
        "national map, and compares the ICB mergers reported for April 2027 with today.\n\n"
        "It runs on the data embedded in coterminus (no data directory, no network): "
        "populations and lookups are the full ONS figures; polygons are simplified for display. "
        "Set `COTERMINUS_DATA_DIR` to a folder of ONS files to draw full-resolution boundaries."
    ),
    nbf.v4.new_code_cell("import coterminus as ct\n\ngeo = ct.load(2026)\ngeo"),
    nbf.v4.new_markdown_cell(
        "Two of the vintage's levels are not ONS products, and every output says so: the ICB "
        "lookup of April 2026 is derived (it agrees with ONS on the LSOAs that changed ICB), and "
        "the strategic authorities come from legislation (four have no ONS code yet)."
    ),
    nbf.v4.new_code_cell("for note in geo.notes():\n    print(note)"),
    nbf.v4.new_code_cell(
        'geo.units("sa")[["name", "kind", "established", "instrument", "ons_code", "population"]]'
    ),
    nbf.v4.new_markdown_cell(
        "## The scorecard\n\n"
        "Per ICB: coterminous with one or more whole strategic authorities (J ≥ 0.995), inside "
        "one authority, not coterminous, or in no authority at all; J; the authorities and "
        "upper-tier councils it splits; and how many people the smallest change would move."
    ),
    nbf.v4.new_code_cell("a = ct.alignment(geo)\nprint(a.summary)"),
    nbf.v4.new_code_cell(
        'a.units[["name", "population", "status", "J", "authorities_split", "councils_split", '
        '"change_people"]]'
    ),
    nbf.v4.new_markdown_cell(
        "Per strategic authority: the ICBs it is split across and the people outside its main ICB."
    ),
    nbf.v4.new_code_cell(
        'a.authorities[["name", "kind", "ons_code", "population", "n_units", "main_unit_name", '
        '"people_outside_main"]]'
    ),
    nbf.v4.new_markdown_cell(
        "## The smallest change, council by council\n\n"
        "Lancashire and South Cumbria holds all of Lancashire and part of Cumbria and of York "
        "and North Yorkshire: to be exactly Lancashire, its Cumbrian and Yorkshire LSOAs would "
        "move to the ICBs that hold most of those authorities."
    ),
    nbf.v4.new_code_cell('print(a.explain("E54000048"))\na.moves_of("E54000048")'),
    nbf.v4.new_markdown_cell("## The national map"),
    nbf.v4.new_code_cell(
        "from coterminus.outputs.scorecard import scorecard_figure\n\nscorecard_figure(a, geo)"
    ),
    nbf.v4.new_markdown_cell(
        "## The ICB mergers reported for April 2027 against today\n\n"
        "`icb-clusters-2027` is a named scenario shipped with coterminus (`coterminus "
        "scenarios` lists them): the eight 2025 clusters of the Midlands and South West, "
        "reported as the basis of mergers from April 2027 — reported, not decided."
    ),
    nbf.v4.new_code_cell(
        'geo27 = ct.scenario(geo, "icb-clusters-2027")\n'
        'for note in geo27.notes("icb_2027"):\n'
        "    print(note)\n"
        'a27 = ct.alignment(geo27, units="icb_2027")\n'
        "c = a.compare(a27)\n"
        "c.totals"
    ),
    nbf.v4.new_code_cell(
        'changed = c.authorities[c.authorities["n_units_icb"] != c.authorities["n_units_icb_2027"]]\n'
        "changed"
    ),
    nbf.v4.new_code_cell("scorecard_figure(a27, geo27)"),
    nbf.v4.new_markdown_cell(
        "## What changed on 1 April 2026\n\n"
        "The diff counts what official statements count — new ICB codes and the ICBs they were "
        "formed from — then the geography."
    ),
    nbf.v4.new_code_cell('print(ct.diff(ct.load(2024), geo, level="icb").summary)'),
    nbf.v4.new_markdown_cell(
        "## Proposed strategic authorities\n\n"
        "With the proposed Greater Essex and Norfolk and Suffolk authorities (named scenario "
        "`sa-proposed-2026`), Essex ICB would be coterminous with one."
    ),
    nbf.v4.new_code_cell(
        'geo_sa = ct.scenario(geo, "sa-proposed-2026")\n'
        'print(ct.alignment(geo_sa, authorities="sa_proposed").summary)'
    ),
]


def main() -> int:
    nb = nbf.v4.new_notebook()
    nb["cells"] = cells
    nb["metadata"]["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbf.write(nb, OUT)
    sys.stdout.write(f"wrote {OUT}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
