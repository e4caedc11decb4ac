"""Analysis: the overlap table and everything computed from it for one geography.

* :mod:`~coterminus.analysis.overlap` — units × targets, people exactly from blocks or m² from
  polygons (the one geometry step);
* :mod:`~coterminus.analysis.adjacency` — which units share a boundary;
* :mod:`~coterminus.analysis.metrics` — J, shares, test II and test I on plain arrays;
* :mod:`~coterminus.analysis.assess` — a footprint's verdicts and the people behind mismatches;
* :mod:`~coterminus.analysis.places` — place sizes and groupings of whole councils;
* :mod:`~coterminus.analysis.systems` — one row per system of a vintage;
* :mod:`~coterminus.analysis.diff` — what changed between two vintages or a scenario.

Imports :mod:`coterminus.geography`, :mod:`coterminus.partitions` and the layers below.
"""
