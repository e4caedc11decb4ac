"""Vintage and scenario diffs: how the units of one level changed between two geographies.

* :mod:`~coterminus.analysis.diff.vintages` — :func:`~coterminus.analysis.diff.vintages.diff`
  and :class:`~coterminus.analysis.diff.vintages.VintageDiff`;
* ``_crossing`` — crossing a change of building block (LSOA 2011 → 2021) with the ONS lookup;
* ``_core`` — the crosstab of old × new units and its classification;
* ``_text`` — the headline sentences.

The underscore modules are private to this package.
"""
