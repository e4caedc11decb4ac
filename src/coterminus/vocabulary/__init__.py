"""Vocabulary: the words every layer shares, with no dependency on data or geometry.

* :mod:`~coterminus.vocabulary.levels` — what a level is (``ccg``, ``icb``, ``utla``, ``sa``…),
  its aliases (``lad`` → ``ltla``), ONS code prefixes and the levels they belong to;
* :mod:`~coterminus.vocabulary.words` — the place band, default tolerance ε, how amounts,
  percentages and "first ten and N more" lists are written in messages;
* :mod:`~coterminus.vocabulary.plan_text` — a plan written as text (``"A,B;C"``).

The lowest layer (with :mod:`coterminus.errors`): every other package may import it, it imports
none of them. Manifests (:mod:`coterminus.data`) are validated against these levels, which is
why they sit below the data layer rather than in :mod:`coterminus.geography`.
"""
