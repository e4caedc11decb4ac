"""Exceptions and warnings raised by coterminus.

Every exception subclasses a built-in (``ValueError``, ``OSError``, ``KeyError``
or ``ImportError``) so that ``except ValueError`` in user code keeps working, and
every message says what went wrong, the offending value, and how to fix it.

Examples
--------
>>> from coterminus.errors import CRSError
>>> issubclass(CRSError, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "CRSError",
    "CacheError",
    "CacheWarning",
    "ChecksumError",
    "ColumnError",
    "CoterminusError",
    "CoterminusWarning",
    "DataDirError",
    "DownloadError",
    "DuplicateCodeError",
    "EmptyDataError",
    "EncodingError",
    "EnumerationTooLargeError",
    "FootprintError",
    "InconsistentResultError",
    "LayerError",
    "LookupMismatchError",
    "ManifestError",
    "MissingDependencyError",
    "ModifiedFileError",
    "NonEnglandWarning",
    "OutputError",
    "OverlappingUnitsError",
    "ParameterError",
    "PopulationError",
    "RepairWarning",
    "ScenarioError",
    "SchedulerError",
    "UnknownAreaError",
    "VintageMismatchError",
]


class CoterminusError(Exception):
    """Base class of every coterminus exception."""


# --- input data -------------------------------------------------------------------------------
class CRSError(CoterminusError, ValueError):
    """A layer has no CRS, or a geographic CRS where metres are needed."""


class ColumnError(CoterminusError, ValueError):
    """No recognisable ONS code column, or more than one candidate."""


class DuplicateCodeError(CoterminusError, ValueError):
    """The same ONS code appears on more than one row of a layer."""


class EmptyDataError(CoterminusError, ValueError):
    """A file or layer has no rows."""


class LayerError(CoterminusError, ValueError):
    """A GeoPackage layer is unknown, or a layer must be chosen among several."""


class ArchiveError(CoterminusError, OSError):
    """A zip archive is corrupt, truncated, holds no boundary file, or is unsafe (zip-slip)."""


class VintageMismatchError(CoterminusError, ValueError):
    """Layers, lookups or codes of different vintages were combined."""


class LookupMismatchError(CoterminusError, ValueError):
    """A lookup does not cover the LSOAs (or areas) of a boundary layer or population file."""


class PopulationError(CoterminusError, ValueError):
    """A population file has missing, non-numeric or negative values."""


class UnknownAreaError(CoterminusError, KeyError):
    """A code or name does not match any area; the message lists the closest matches."""

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0]) if self.args else ""


# --- analysis ---------------------------------------------------------------------------------
class FootprintError(CoterminusError, ValueError):
    """A footprint is empty, has duplicate members, or mixes vintages or levels."""


class OverlappingUnitsError(CoterminusError, ValueError):
    """Units overlap each other, so adding their rows would double count."""


class ParameterError(CoterminusError, ValueError):
    """A keyword argument is outside its allowed range (tolerance, weights, tier, ...)."""


class EnumerationTooLargeError(CoterminusError, ValueError):
    """Exhaustive enumeration would be unreasonable; the message gives the count and alternative."""


class ManifestError(CoterminusError, ValueError):
    """A vintage manifest is unknown, malformed, or names a missing file or column."""


class ScenarioError(CoterminusError, ValueError):
    """A scenario table has unknown codes, gaps or members assigned more than once."""


# --- files, network and environment -----------------------------------------------------------
class DataDirError(CoterminusError, OSError):
    """A data directory is missing, or lacks the file a vintage needs."""


class DownloadError(CoterminusError, OSError):
    """An HTTP error, a server that never answered, or a truncated body."""


class ChecksumError(CoterminusError, OSError):
    """A downloaded file does not have the expected SHA-256; it was deleted."""


class CacheError(CoterminusError, OSError):
    """The cache directory cannot be created or written."""


class OutputError(CoterminusError, OSError):
    """An output path is in a missing or read-only directory, or has an unknown suffix."""


class SchedulerError(CoterminusError, ConnectionError):
    """A Dask scheduler address that cannot be reached, or that does not answer as a scheduler."""


class MissingDependencyError(CoterminusError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


# --- warnings ---------------------------------------------------------------------------------
class CoterminusWarning(UserWarning):
    """Base class of coterminus warnings."""


class NonEnglandWarning(CoterminusWarning):
    """Non-England (W, S, N) rows were found and dropped."""


class RepairWarning(CoterminusWarning):
    """A layer has repairable problems (invalid geometry, micro-gaps); nothing was changed."""


# --- integrity (issue 10) ---------------------------------------------------------------------
class ModifiedFileError(ChecksumError):
    """A data file whose SHA-256 is pinned differs from the published file (edited or corrupt).

    The message names the file, the expected and found hashes, and the two fixes: download it
    again (``coterminus data fetch ...``), or pass ``trust_modified=True`` (CLI
    ``--trust-modified``) for a deliberate edit, which is then stamped on every output.
    """


class EncodingError(CoterminusError, ValueError):
    """A text file is in an encoding coterminus does not read; the message names it."""


class CacheWarning(CoterminusWarning):
    """The parsed-layer cache was unreadable, stale or read-only; it was rebuilt or bypassed."""


# --- self-checks (issue 12) -------------------------------------------------------------------
class InconsistentResultError(CoterminusError, RuntimeError):
    """Two independent computations of one answer disagree: a bug in coterminus, never bad input.

    For example the best merger plan by the subset dynamic programme and by enumeration. The
    message names both answers; please report it with the call that produced it.
    """
