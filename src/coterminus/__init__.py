"""coterminus — does this NHS footprint line up with the councils it works with?

Load a vintage of ONS geography, measure how NHS footprints overlap councils (exactly, by
population, from LSOA building blocks; or by area, from polygons), and report the evidence for
NHS England's tests I (within one system) and II (coterminous with local authorities), places,
every merger plan, vintage diffs, maps and board reports.

The top-level names are functions and result classes (see ``__all__``); they are imported on
first use, so ``import coterminus`` is quick and loads neither geopandas nor numba. The code sits
in one package per layer (see ARCHITECTURE.md): :mod:`coterminus.vocabulary`,
:mod:`coterminus.data`, :mod:`coterminus.geography`, :mod:`coterminus.partitions`,
:mod:`coterminus.analysis`, :mod:`coterminus.plans`, :mod:`coterminus.outputs` and
:mod:`coterminus.cli`. No top-level name is also a module, so ``coterminus.mergers`` is always
the function.

>>> import coterminus
>>> coterminus.__version__ != ""
True
>>> geo = coterminus.load(2019)
>>> coterminus.assess(geo, system="Coventry and Warwickshire").metrics.coterminous
True
"""

import importlib as _importlib
import typing as _typing
import warnings as _warnings

# pooch (downloads) imports tqdm.auto, which in a Jupyter kernel without ipywidgets warns that it
# falls back to the console progress bar; that bar is the one coterminus uses anyway, so the
# notice ("TqdmWarning: IProgress not found") is only noise in a notebook's first cell.
_warnings.filterwarnings("ignore", message="IProgress not found", module=r"tqdm\.")

if _typing.TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and IDEs
    from .analysis.alignment import alignment
    from .analysis.assess import Assessment, assess
    from .analysis.diff.vintages import VintageDiff, diff
    from .analysis.metrics import (
        FootprintMetrics,
        SystemAlignment,
        footprint_metrics,
        system_alignment,
    )
    from .analysis.overlap import OverlapTable, cross_check, overlap
    from .analysis.places import Places, places
    from .analysis.systems import systems
    from .data.doctor import doctor, repair
    from .data.readers import read_boundaries, read_lookup, read_population
    from .errors import CoterminusError
    from .geography.bundle import Geography, load
    from .geography.scenario import scenario
    from .outputs.figures import footprint_figure, plans_figure, save_figure
    from .outputs.maps import footprint_map, plan_map, save_map
    from .outputs.options import DrawOptions
    from .outputs.report import report
    from .plans.constraints import Constraints
    from .plans.mergers import best_plan, mergers, national
    from .plans.optimise import Optimum, optimise
    from .plans.results import MergerResult

#: Public name -> module that defines it (imported on first access).
_LAZY: dict[str, str] = {
    # data
    "Geography": "geography.bundle",
    "load": "geography.bundle",
    "scenario": "geography.scenario",
    "read_boundaries": "data.readers",
    "read_lookup": "data.readers",
    "read_population": "data.readers",
    # the overlap table and its metrics
    "OverlapTable": "analysis.overlap",
    "overlap": "analysis.overlap",
    "cross_check": "analysis.overlap",
    "FootprintMetrics": "analysis.metrics",
    "SystemAlignment": "analysis.metrics",
    "footprint_metrics": "analysis.metrics",
    "system_alignment": "analysis.metrics",
    # analyses
    "Assessment": "analysis.assess",
    "assess": "analysis.assess",
    "Places": "analysis.places",
    "places": "analysis.places",
    "systems": "analysis.systems",
    "alignment": "analysis.alignment",
    "MergerResult": "plans.mergers",
    "Constraints": "plans.constraints",
    "best_plan": "plans.mergers",
    "mergers": "plans.mergers",
    "national": "plans.mergers",
    "optimise": "plans.optimise",
    "Optimum": "plans.optimise",
    "VintageDiff": "analysis.diff.vintages",
    "diff": "analysis.diff.vintages",
    "doctor": "data.doctor",
    "repair": "data.doctor",
    # outputs
    "DrawOptions": "outputs.options",
    "footprint_map": "outputs.maps",
    "plan_map": "outputs.maps",
    "save_map": "outputs.maps",
    "footprint_figure": "outputs.figures",
    "plans_figure": "outputs.figures",
    "save_figure": "outputs.figures",
    "report": "outputs.report",
    # errors (the others are in coterminus.errors)
    "CoterminusError": "errors",
}

__all__ = [
    "Assessment",
    "Constraints",
    "CoterminusError",
    "DrawOptions",
    "FootprintMetrics",
    "Geography",
    "MergerResult",
    "Optimum",
    "OverlapTable",
    "Places",
    "SystemAlignment",
    "VintageDiff",
    "alignment",
    "assess",
    "best_plan",
    "cross_check",
    "diff",
    "doctor",
    "footprint_figure",
    "footprint_map",
    "footprint_metrics",
    "load",
    "mergers",
    "national",
    "optimise",
    "overlap",
    "places",
    "plan_map",
    "plans_figure",
    "read_boundaries",
    "read_lookup",
    "read_population",
    "repair",
    "report",
    "save_figure",
    "save_map",
    "scenario",
    "system_alignment",
    "systems",
]


def __getattr__(name: str) -> _typing.Any:
    """Import a public name on first access (PEP 562)."""
    if name == "__version__":
        value: _typing.Any = _importlib.import_module("._version", __name__).__version__
    elif name in _LAZY:
        module = _importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
    else:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})
