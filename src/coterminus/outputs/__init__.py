"""Outputs: maps for notebooks, print figures and the board report, drawn from results.

* :mod:`~coterminus.outputs.options` — how an output is drawn (:class:`DrawOptions`);
* :mod:`~coterminus.outputs.layers` — what every output draws (:class:`MapLayers`), built
  from results (an assessment, a plan's assessments, every system) without re-running them;
* :mod:`~coterminus.outputs.maps` — interactive folium maps and their offline HTML;
* :mod:`~coterminus.outputs.figures` — print-ready matplotlib figures;
* :mod:`~coterminus.outputs.report` — the HTML/PDF board report (``templates/``);
* private to this package: ``_model`` (``MapLayers`` and the words of notes), ``_build`` (the
  layers from results), ``_request`` (checks of what is asked), ``_simplify`` (display
  simplification), ``_leaflet`` (Leaflet, online or embedded), ``_page`` (paper sizes,
  margins, text blocks), ``_labels`` (names that never overlap), ``_figure_map`` (the map on
  a figure's axes), ``_split_figure`` (one level against another); ``static/`` holds Leaflet
  for offline maps.
"""
