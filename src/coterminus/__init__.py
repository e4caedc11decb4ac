"""coterminus — does this NHS footprint line up with the councils it works with?

Load a vintage of ONS geography, measure how CCG footprints overlap councils (exactly, by
population, from LSOA building blocks; or by area, from polygons), and report the evidence for
NHS England's merger tests I (within one STP/ICS) and II (coterminous with local authorities).

>>> import coterminus
>>> coterminus.__version__ != ""
True
"""

from importlib.metadata import PackageNotFoundError, version

from . import datasets, mergers, report  # modules: coterminus.mergers.mergers(), ...report()
from .assess import Assessment, assess
from .doctor import doctor, repair
from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all
from .figures import footprint_figure, plans_figure, save_figure
from .geography import Geography, load
from .io import read_boundaries, read_lookup, read_population
from .maps import footprint_map, plan_map, save_map
from .mergers import MergerResult, best_plan, national
from .metrics import FootprintMetrics, SystemAlignment, footprint_metrics, system_alignment
from .overlap import OverlapTable, area_overlap, cross_check, overlap, population_overlap
from .places import Places, places
from .vintages import VintageDiff, diff

try:
    __version__ = version("coterminus")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Assessment",
    "FootprintMetrics",
    "MergerResult",
    "Places",
    "VintageDiff",
    "assess",
    "best_plan",
    "datasets",
    "diff",
    "doctor",
    "footprint_figure",
    "footprint_map",
    "national",
    "places",
    "plan_map",
    "plans_figure",
    "repair",
    "report",
    "save_figure",
    "save_map",
    "Geography",
    "OverlapTable",
    "SystemAlignment",
    "__version__",
    "area_overlap",
    "cross_check",
    "footprint_metrics",
    "load",
    "mergers",
    "overlap",
    "population_overlap",
    "read_boundaries",
    "read_lookup",
    "read_population",
    "system_alignment",
    *_errors_all,
]
