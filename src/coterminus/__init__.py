"""coterminus — does this NHS footprint line up with the councils it works with?

Load a vintage of ONS geography, measure how CCG footprints overlap councils (exactly, by
population, from LSOA building blocks; or by area, from polygons), and report the evidence for
NHS England's merger tests I (within one STP/ICS) and II (coterminous with local authorities).

The top-level names are functions and result classes (see ``__all__``); they are imported on
first use, so ``import coterminus`` is quick and loads neither geopandas nor numba. Modules are
reached through ordinary imports (``from coterminus import datasets``,
``import coterminus.mergers as m``). A module that shares its name with its main function
(``assess``, ``doctor``, ``mergers``, ``overlap``, ``places``, ``report``, ``systems``) can be called
like that function, so ``coterminus.mergers(geo, ...)`` works before and after
``import coterminus.mergers``.

>>> import coterminus
>>> coterminus.__version__ != ""
True
>>> geo = coterminus.load(2019)
>>> coterminus.assess(geo, system="Coventry and Warwickshire").metrics.coterminous
True
"""

import importlib as _importlib
import inspect as _inspect
import sys as _sys
import types as _types
import typing as _typing

if _typing.TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and IDEs
    from .assess import Assessment, assess
    from .doctor import doctor, repair
    from .errors import CoterminusError
    from .figures import footprint_figure, plans_figure, save_figure
    from .geography import Geography, load
    from .io import read_boundaries, read_lookup, read_population
    from .maps import footprint_map, plan_map, save_map
    from .mergers import MergerResult, best_plan, mergers, national
    from .metrics import FootprintMetrics, SystemAlignment, footprint_metrics, system_alignment
    from .overlap import OverlapTable, cross_check, overlap
    from .places import Places, places
    from .report import report
    from .scenario import scenario
    from .systems import systems
    from .vintages import VintageDiff, diff

#: Public name -> module that defines it (imported on first access).
_LAZY: dict[str, str] = {
    # data
    "Geography": "geography",
    "load": "geography",
    "scenario": "scenario",
    "read_boundaries": "io",
    "read_lookup": "io",
    "read_population": "io",
    # the overlap table and its metrics
    "OverlapTable": "overlap",
    "overlap": "overlap",
    "cross_check": "overlap",
    "FootprintMetrics": "metrics",
    "SystemAlignment": "metrics",
    "footprint_metrics": "metrics",
    "system_alignment": "metrics",
    # analyses
    "Assessment": "assess",
    "assess": "assess",
    "Places": "places",
    "places": "places",
    "systems": "systems",
    "MergerResult": "mergers",
    "best_plan": "mergers",
    "mergers": "mergers",
    "national": "mergers",
    "VintageDiff": "vintages",
    "diff": "vintages",
    "doctor": "doctor",
    "repair": "doctor",
    # outputs
    "footprint_map": "maps",
    "plan_map": "maps",
    "save_map": "maps",
    "footprint_figure": "figures",
    "plans_figure": "figures",
    "save_figure": "figures",
    "report": "report",
    # errors (the others are in coterminus.errors)
    "CoterminusError": "errors",
}

__all__ = [
    "Assessment",
    "CoterminusError",
    "FootprintMetrics",
    "Geography",
    "MergerResult",
    "OverlapTable",
    "Places",
    "SystemAlignment",
    "VintageDiff",
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

#: Modules named like their main function: the module object itself is made callable.
_CALLABLE_MODULES = frozenset(name for name, module in _LAZY.items() if name == module)


class _CallableModule(_types.ModuleType):
    """A module that, called, runs its function of the same name (``coterminus.mergers(...)``).

    ``import coterminus.mergers`` binds the submodule as the package attribute ``mergers``, which
    would hide the function of that name; making the module callable keeps ``coterminus.mergers``
    both the module (``coterminus.mergers.best_plan``) and the function, in either import order.
    """

    @property
    def _function(self) -> _typing.Any:
        name = self.__name__.rpartition(".")[2]
        function = self.__dict__.get(name)
        if not callable(function):
            msg = f"module {self.__name__!r} has no function {name!r} to call"
            raise TypeError(msg)
        return function

    def __call__(self, *args: _typing.Any, **kwargs: _typing.Any) -> _typing.Any:
        return self._function(*args, **kwargs)

    @property
    def __signature__(self) -> _typing.Any:  # inspect.signature(module) shows the function's
        return _inspect.signature(self._function)


def _make_callable(module: _types.ModuleType) -> None:
    if type(module) is _types.ModuleType:
        module.__class__ = _CallableModule


class _Package(_types.ModuleType):
    """The ``coterminus`` package: a submodule bound on import is made callable where needed."""

    def __setattr__(self, name: str, value: _typing.Any) -> None:
        if (
            name in _CALLABLE_MODULES
            and isinstance(value, _types.ModuleType)
            and value.__name__ == f"{__name__}.{name}"
        ):
            _make_callable(value)
        super().__setattr__(name, value)


def __getattr__(name: str) -> _typing.Any:
    """Import a public name on first access (PEP 562)."""
    if name == "__version__":
        value: _typing.Any = _importlib.import_module("._version", __name__).__version__
    elif name in _LAZY:
        module = _importlib.import_module(f".{_LAZY[name]}", __name__)
        value = module if name in _CALLABLE_MODULES else getattr(module, name)
    else:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})


_sys.modules[__name__].__class__ = _Package
