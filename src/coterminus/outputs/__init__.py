"""Outputs: maps for notebooks, print figures and the board report, drawn from results.

* :mod:`~coterminus.outputs.layers` — what every output draws (:class:`MapLayers`);
* :mod:`~coterminus.outputs.maps` — interactive folium maps and their offline HTML;
* :mod:`~coterminus.outputs.figures` — print-ready matplotlib figures;
* :mod:`~coterminus.outputs.report` — the HTML/PDF board report (``templates/``);
* private to this package: ``_request`` (checks of what is asked), ``_simplify`` (display
  simplification), ``_page`` (paper sizes, margins, text blocks), ``_figure_map`` (the map on a
  figure's axes); ``static/`` holds Leaflet for offline maps.
"""
