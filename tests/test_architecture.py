"""The import graph keeps the layering that ARCHITECTURE.md describes.

Read from the source (``ast``), not by importing, so a forbidden edge is caught even when it sits
inside a function or under ``if TYPE_CHECKING:``. A module's layer is its folder: the packages
of ``src/coterminus`` are the layers, in the order of :data:`LAYERS` (issue 20). Rules:

1. the top level holds only packages plus ``__init__``, ``__main__``, ``errors`` and
   ``_version``; every module sits in the folder of one layer, and ARCHITECTURE.md's table lists
   the same folders for the same layers, in the same order, and names every module;
2. a module imports modules of its own layer or of layers below it, never above;
3. no module uses another module's private names (``from .maps import _cap``, ``_p._prepare``),
   and a private module (``outputs/_page.py``) is imported only from its own package;
4. imports sit at the top of a module; inside a function only an optional or heavy dependency
   (:data:`LAZY_OK`) may be imported, and a command handler of the ``cli`` package may import
   the library it runs (so ``coterminus --help`` loads neither numpy nor pandas);
5. no module is longer than :data:`MAX_LINES` lines.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import coterminus

PACKAGE = Path(coterminus.__file__).resolve().parent
ARCHITECTURE = PACKAGE.parents[1] / "ARCHITECTURE.md"
MAX_LINES = 900

#: The layers, lowest first, and the folders (packages) or top-level files that form each.
LAYERS: dict[str, tuple[str, ...]] = {
    "vocabulary": ("errors.py", "_version.py", "vocabulary/"),
    "combinatorics": ("partitions/",),
    "data": ("data/",),
    "geography": ("geography/",),
    "analysis": ("analysis/",),
    "plans": ("plans/",),
    "outputs": ("outputs/",),
    "command line": ("cli/", "__main__.py"),
    # the package itself: a lazy facade over every layer (names resolved on first use)
    "facade": ("__init__.py",),
}

#: What may sit at the top of src/coterminus besides the layer packages.
TOP_LEVEL_FILES = {"__init__.py", "__main__.py", "errors.py", "_version.py", "py.typed"}

# Imported inside functions on purpose: optional extras (dask), heavy libraries needed by one
# path only (numba for compiled kernels, WeasyPrint for PDF, highspy for the optimiser); the
# compiled kernels module imports numba.
LAZY_OK = {
    "numba",
    "dask",
    "distributed",
    "weasyprint",
    "highspy",
    "graphillion",
    "coterminus.partitions._kernels",
}


@dataclass(frozen=True)
class Import:
    module: str  # importing module, e.g. "coterminus.maps"
    target: str  # imported module, e.g. "coterminus.assess" or "numpy"
    name: str | None  # the name taken from it ("from target import name"), None for "import"
    line: int
    in_function: bool
    function: str | None


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "_embedded" in path.parts:
            continue
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_module(name: str) -> bool:
    return name in MODULES


def _imports(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def walk(node: ast.AST, function: str | None) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from walk(child, function or child.name)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(
                        module, alias.name, None, child.lineno, function is not None, function
                    )
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    if _is_module(sub):  # "from . import maps" imports the module maps
                        yield Import(
                            module, sub, None, child.lineno, function is not None, function
                        )
                    else:
                        yield Import(
                            module, target, alias.name, child.lineno, function is not None, function
                        )
            yield from walk(child, function)

    yield from walk(tree, None)


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def _home(module: str) -> str:
    """The folder or top-level file that holds ``module`` (a name under ``coterminus``)."""
    parts = module.split(".")[1:]
    if not parts:
        return "__init__.py"
    path = MODULES.get(module)
    if len(parts) == 1 and path is not None and path.name != "__init__.py":
        return f"{parts[0]}.py"
    return f"{parts[0]}/"


def _layer(module: str) -> int:
    """Index of the layer that holds ``module``, from its folder."""
    if module not in MODULES and not module.startswith("coterminus"):
        raise LookupError(f"{module} is not a module of the package")
    if module not in MODULES:
        raise LookupError(f"{module} is in 0 layers of LAYERS; put it in exactly one")
    home = _home(module)
    found = [i for i, homes in enumerate(LAYERS.values()) if home in homes]
    if len(found) != 1:
        raise LookupError(
            f"{module} ({home}) is in {len(found)} layers of LAYERS; put it in exactly one"
        )
    return found[0]


def _internal(imp: Import) -> bool:
    return imp.target == "coterminus" or imp.target.startswith("coterminus.")


def architecture_table() -> dict[str, tuple[str, ...]]:
    """The layer table of ARCHITECTURE.md: layer name -> folders/files of its second column."""
    table: dict[str, tuple[str, ...]] = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not line.startswith("|") or set(cells[0]) <= {"-", " "}:
            continue
        if cells[0] == "layer":
            continue
        table[cells[0]] = tuple(re.findall(r"`([^`]+)`", cells[1]))
    return table


def layer_problems() -> list[str]:
    """Rule 1: the top level, one layer per module, and ARCHITECTURE.md's table and names."""
    problems = []
    for path in sorted(PACKAGE.iterdir()):
        if path.is_file() and path.name not in TOP_LEVEL_FILES:
            problems.append(f"{path.name} sits at the top of the package; move it into a layer")
        if (
            path.is_dir()
            and path.name != "__pycache__"
            and f"{path.name}/" not in {home for homes in LAYERS.values() for home in homes}
        ):
            problems.append(f"{path.name}/ is not a layer of LAYERS")
    table = architecture_table()
    if table != LAYERS:
        problems.append(f"ARCHITECTURE.md's layer table {table} differs from the folders {LAYERS}")
    text = ARCHITECTURE.read_text(encoding="utf-8")
    for module, path in MODULES.items():
        try:
            _layer(module)
        except LookupError as exc:
            problems.append(str(exc))
        if module == "coterminus":
            continue
        stem = path.parent.name if path.name == "__init__.py" else path.stem
        if f"`{stem}" not in text and f"{stem}/" not in text:
            problems.append(f"ARCHITECTURE.md does not name {module} ({stem})")
    return problems


def _layer_or_none(module: str) -> int | None:
    try:
        return _layer(module)
    except LookupError:
        return None


def upward_imports() -> list[str]:
    """Rule 2: imports of a module in a higher layer (the facade is importable by nobody)."""
    names = list(LAYERS)
    out = []
    for i in IMPORTS:
        if not _internal(i):
            continue
        lo, hi = _layer_or_none(i.module), _layer_or_none(i.target)
        if lo is not None and hi is not None and hi > lo:
            out.append(f"{i.module}:{i.line} ({names[lo]}) imports {i.target} ({names[hi]})")
    return out


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses() -> list[str]:
    """Rule 3: another module's private names, imported or read as attributes."""
    found = [
        f"{i.module}:{i.line} imports {i.name} from {i.target}"
        for i in IMPORTS
        if _internal(i) and i.name is not None and _private(i.name) and i.target != i.module
    ]
    # a private module is private to its package (and the packages inside it)
    for i in IMPORTS:
        if not _internal(i):
            continue
        parts = i.target.split(".")
        private_at = [k for k, part in enumerate(parts) if _private(part)]
        if private_at and private_at[0] > 0 and i.target not in LAZY_OK:
            owner = ".".join(parts[: private_at[0]])
            if not (i.module == owner or i.module.startswith(owner + ".")):
                found.append(f"{i.module}:{i.line} imports {i.target}, private to {owner}")
    # attribute access on an imported module: "from . import partitions as _p"; "_p._prepare"
    for module, path in MODULES.items():
        aliases = {}
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for imp in _imports(module, path):
            if _internal(imp) and imp.name is None and imp.target != module:
                aliases[imp.target.rpartition(".")[2]] = imp.target
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.asname:
                        full = [t for t in aliases.values() if t.endswith("." + alias.name)]
                        if full:
                            aliases[alias.asname] = full[0]
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _private(node.attr)
            ):
                found.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def _lazy_allowed(i: Import) -> bool:
    root = i.target.split(".")[0]
    if root in LAZY_OK or i.target in LAZY_OK:
        return True
    # a CLI command handler loads the library it runs, so --help stays light
    return i.module.startswith("coterminus.cli") and (i.function or "").startswith("run")


def function_imports() -> list[str]:
    """Rule 4: imports inside functions that are neither optional nor heavy."""
    return [
        f"{i.module}:{i.line} in {i.function}() imports {i.target}"
        + (f".{i.name}" if i.name else "")
        for i in IMPORTS
        if i.in_function and not _lazy_allowed(i)
    ]


def long_modules() -> list[str]:
    """Rule 5: modules over :data:`MAX_LINES` lines."""
    out = []
    for module, path in MODULES.items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            out.append(f"{module} has {lines} lines; split it by concept")
    return out


def test_every_module_has_one_layer_and_architecture_names_it() -> None:
    assert layer_problems() == []


def test_imports_point_down_the_layers() -> None:
    assert upward_imports() == []


@pytest.mark.slow
def test_no_module_uses_another_modules_private_names() -> None:
    assert private_uses() == []


def test_imports_sit_at_the_top_unless_optional_or_heavy() -> None:
    assert function_imports() == []


def test_no_module_is_over_the_line_limit() -> None:
    assert long_modules() == []


def test_the_rules_catch_what_they_describe(tmp_path: Path) -> None:
    """The checks are live: a made-up module with each forbidden edge is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from .. import partitions as _p\n"
        "from ..outputs.maps import _cap\n"
        "def f():\n"
        "    import pandas\n"
        "    return _p._prepare\n",
        encoding="utf-8",
    )
    got = list(_imports("coterminus.analysis.metrics", bad))
    assert [(i.target, i.name, i.in_function) for i in got] == [
        ("coterminus.partitions", None, False),
        ("coterminus.outputs.maps", "_cap", False),
        ("pandas", None, True),
    ]
    assert _layer("coterminus.outputs.maps") > _layer("coterminus.analysis.metrics")
    assert _layer("coterminus.errors") == 0
    assert _layer("coterminus.cli.maps") == _layer("coterminus.__main__")
    with pytest.raises(LookupError, match="exactly one"):
        _layer("coterminus.no_such_module")


if __name__ == "__main__":  # python tests/test_architecture.py: every finding, by rule
    for check in (layer_problems, upward_imports, private_uses, function_imports, long_modules):
        found = check()
        print(f"## {check.__name__}: {len(found)}")
        print("\n".join(sorted(found)))
