"""One text, many editions: aligning a work's editions and carrying annotations across them.

- :mod:`editions.align` aligns two editions' texts of one juan, character by character, on the
  search normaliser's folded forms (so 爲/為, 徳/德, 㫖/旨 align), robust to inserted or deleted notes;
- :mod:`editions.service` proposes an approved annotation on every aligned passage of the other
  editions, keeps those proposals as a review queue, and turns an accepted one into an annotation
  derived from its origin (``prov:wasDerivedFrom``);
- :mod:`editions.projection` runs the service live from the change log (a projection of the
  projector), so an approval or a text correction is followed without an operator step.
"""
