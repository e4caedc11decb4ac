"""coterminus — does this NHS footprint line up with the councils it works with?

Load a vintage of ONS geography, measure how CCG footprints overlap councils (exactly, by
population, from LSOA building blocks; or by area, from polygons), and report the evidence for
NHS England's merger tests I (within one STP/ICS) and II (coterminous with local authorities).

>>> import coterminus
>>> coterminus.__version__ != ""
True
"""

from importlib.metadata import PackageNotFoundError, version

from .errors import *  # noqa: F403
from .errors import __all__ as _errors_all
from .assess import Assessment, assess
from .doctor import doctor, repair
from .geography import Geography, load
from .io import read_boundaries, read_lookup, read_population
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
    "Places",
    "VintageDiff",
    "assess",
    "diff",
    "doctor",
    "places",
    "repair",
    "Geography",
    "OverlapTable",
    "SystemAlignment",
    "__version__",
    "area_overlap",
    "cross_check",
    "footprint_metrics",
    "load",
    "overlap",
    "population_overlap",
    "read_boundaries",
    "read_lookup",
    "read_population",
    "system_alignment",
    *_errors_all,
]
