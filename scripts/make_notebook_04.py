"""Write notebooks/04_icbs_and_strategic_authorities_2024.ipynb (cells only; CI executes it)."""

from pathlib import Path

import nbformat as nbf

cells = [
    nbf.v4.new_markdown_cell(
        "# ICBs, upper-tier councils and strategic authorities (2024)\n\n"
        "In 2026 the coterminosity question is asked of ICBs: the government asked ICBs to be "
        "*coterminous with one or more strategic authorities wherever feasible*, several merged "
        "on 1 April 2026, and more mergers are being decided for April 2027. This notebook uses "
        "the 2024 vintage (sub-ICB locations, ICBs, NHS regions, councils and the 10 combined "
        "authorities of December 2023 on LSOA 2021 building blocks, with Census 2021 usual "
        "residents) to build the ICB × upper tier × combined authority table, a national map, "
        "a proposed merger as a scenario, and the Midlands merger space and its optimum.\n\n"
        "It runs on the ONS data embedded in coterminus: no download, no data folder."
    ),
    nbf.v4.new_code_cell(
        "import coterminus as ct\n"
        "from coterminus.outputs.figures import split_figure\n\n"
        "geo = ct.load(2024)\n"
        "geo"
    ),
    nbf.v4.new_markdown_cell(
        "## Every ICB against upper-tier councils and combined authorities\n\n"
        "One row per ICB: J against the upper tier (1 = a union of whole councils), the "
        "combined authorities it touches with the share of its people in each, and whether any "
        "of them is split between ICBs."
    ),
    nbf.v4.new_code_cell(
        't = ct.systems(geo, against=["utla", "cauth"])\n'
        't[["name", "population", "coterminosity_index_utla", "n_split_utla", '
        '"touched_cauth", "split_cauth"]].head(12)'
    ),
    nbf.v4.new_code_cell(
        'print(int(t["coterminous_utla"].sum()), "of", len(t), "ICBs are unions of whole upper-tier councils")\n'
        'print(int(t["coterminous_cauth"].sum()), "are coterminous with one or more combined authorities")\n'
        'print(int((t["touched_cauth"] != "").sum()), "touch at least one combined authority")'
    ),
    nbf.v4.new_markdown_cell("## One ICB in detail, and the people behind each mismatch"),
    nbf.v4.new_code_cell(
        'a = ct.assess(geo, system="Coventry and Warwickshire", units="icb")\n'
        "print(a.explain(a.against))\n"
        'a.tiers["cauth"].by_la'
    ),
    nbf.v4.new_markdown_cell(
        "## A national map: ICBs and the combined authorities split between them (hatched)"
    ),
    nbf.v4.new_code_cell(
        'split_figure(geo, units="icb", against="cauth", within=list(geo.units("icb").index))'
    ),
    nbf.v4.new_markdown_cell(
        "## A proposed merger as a scenario\n\n"
        "A scenario is a table of members and the area each joins; it becomes a level usable "
        "everywhere. Here: Birmingham and Solihull with the Black Country (the West Midlands "
        "combined authority's ICBs), and every other Midlands ICB unchanged."
    ),
    nbf.v4.new_code_cell(
        "import pandas as pd\n\n"
        'midlands = geo.members("Midlands", "icb")\n'
        'merged = {"E54000055": "WM", "E54000062": "WM"}  # Birmingham and Solihull, Black Country\n'
        "table = pd.DataFrame({\n"
        '    "member": midlands,\n'
        '    "area": [merged.get(c, c) for c in midlands],\n'
        '    "area_name": [\n'
        '        "NHS West Midlands (proposed)" if c in merged else geo.name(c) for c in midlands\n'
        "    ],\n"
        "})\n"
        'geo2 = ct.scenario(geo, "proposed_icb", table)\n'
        'wm = ct.assess(geo2, "WM", units="proposed_icb")\n'
        "print(wm.explain(wm.against))\n"
        'print(ct.diff(geo, geo2, level=("icb", "proposed_icb")).summary)'
    ),
    nbf.v4.new_markdown_cell(
        "## The Midlands merger space\n\n"
        "Every way of merging the 11 Midlands ICBs under the reported 2025 footprint rules, "
        "which are the defaults for ICBs: blocks of 1,000,000 people up to the largest ICB of "
        "the vintage, contiguous, within the region; here also no upper-tier council split "
        "between ICBs. Each plan is scored in people against upper-tier councils and combined "
        "authorities: people behind mismatches and people in ICBs that are not unions of whole "
        "areas (districts in no combined authority are neutral). Ties on the objective go to "
        "the plan that moves fewest people."
    ),
    nbf.v4.new_code_cell(
        'r = ct.mergers(geo, "Midlands", units="icb", within="nhser", against=["utla", "cauth"],\n'
        '               constraints=ct.Constraints(no_split="utla"), top=5)\n'
        "print(r.summary(3))\n"
        'r.top[["rank", "tied", "n_blocks", "objective", "change", "mismatch_cauth",\n'
        '       "not_coterminous_cauth", "blocks"]]'
    ),
    nbf.v4.new_markdown_cell(
        "Which terms decide? The least and greatest value of each criterion over every plan "
        "(by dynamic programming, no enumeration). A criterion with equal bounds is the same in "
        "every plan: the West Midlands combined authority is split by every plan, because "
        "Coventry and Warwickshire (942,080 people) must join a neighbour and the whole "
        "authority with it would be larger than the largest ICB; what the plans change is how "
        "many people sit behind that split."
    ),
    nbf.v4.new_code_cell("r.ranges"),
    nbf.v4.new_markdown_cell(
        "### The optimum from whole upper-tier councils\n\n"
        "ICBs are not the only possible building blocks. `ct.optimise` answers the same "
        "question — same objective, same rules, ties to the least change from today's ICBs — "
        "for the 24 upper-tier councils of the region, where enumerating every plan is out of "
        "reach, and proves the result optimal (a set-partitioning MILP solved by HiGHS; see "
        "METHODS.md §6). It also counts the plans that keep the rules, so the best plan is the "
        "best of a known number."
    ),
    nbf.v4.new_code_cell(
        'opt = ct.optimise(geo, "Midlands", units="utla", within="nhser", against="cauth",\n'
        '                  constraints=ct.Constraints(today="icb"))\n'
        'print(f"{opt.status}, gap {opt.gap:g}; {opt.count.value:,} plans keep the rules")\n'
        'opt.plans[["rank", "tied", "proven", "n_blocks", "objective", "change", "blocks"]]'
    ),
    nbf.v4.new_markdown_cell(
        "From whole councils the West Midlands combined authority can be kept whole: its seven "
        "metropolitan boroughs (2,919,639 people) fit under the largest ICB. With ICBs as "
        "units that is impossible: Coventry and Warwickshire ICB holds Coventry, in the "
        "authority, and Warwickshire, outside it, so an ICB holding the whole authority would "
        "also hold Warwickshire and pass the largest ICB. Every block of the optimum "
        "is a union of whole combined authorities or of councils in none, so the objective is "
        "0; the plans that reach it differ only in how many people change ICB."
    ),
    nbf.v4.new_code_cell('opt.assignment().sort_values(["block", "name"])'),
]
nb = nbf.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
out = (
    Path(__file__).resolve().parents[1]
    / "notebooks"
    / "04_icbs_and_strategic_authorities_2024.ipynb"
)
nbf.write(nb, out)
print(out)  # noqa: T201 - a script run by hand
