"""Geography: a loaded vintage as one object, names resolved to codes, scenarios as levels.

* :mod:`~coterminus.geography.bundle` — :class:`~coterminus.geography.bundle.Geography` (the
  block table, any set of levels, lazily loaded polygons, a memo for derived tables) and
  :func:`~coterminus.geography.bundle.load`;
* :mod:`~coterminus.geography.resolve` — names, ONS codes and NHS codes → codes of a level;
* :mod:`~coterminus.geography.scenario` — a user's proposed areas as one more level.

Imports :mod:`coterminus.data` (manifests, readers) and :mod:`coterminus.vocabulary.words`; nothing
above.
"""
