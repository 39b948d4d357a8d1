"""Import deals from CSV exports of other CRMs: plan (read + validate), then apply.

``plan_import`` reads the whole file, maps its columns to deal fields and validates every
row with :func:`~vectoros_tui.store.validation.clean_deal`; it touches no database.
``apply_import`` writes a plan in ONE transaction (``DealService.upsert_many``), or
nothing at all when any row of the file is invalid.

Reading rules, decided per file so one odd cell cannot change how the others are read:

* Encoding is UTF-8; a byte-order mark is ignored. The delimiter is ``,``, ``;`` or tab,
  whichever splits the first lines into the most, consistently sized, columns.
* Blank lines and rows whose cells are all empty are skipped (spreadsheets leave them).
* Columns are found from common header names (case, spaces, underscores, hyphens and a
  trailing ``(...)`` such as ``Probability (%)`` do not matter); ``mapping`` overrides that.
* Probability: if every non-empty value lies within 0..1, at least one is a fraction and
  none carries ``%``, the column holds fractions (HubSpot's ``0.6``) and is multiplied by
  100 and rounded. Otherwise values are whole percentages (``60`` or ``60%``).
* Money: ``$1,200.50``, ``1 200`` and ``€3,000`` are read as usual. If some value of the
  column is unmistakably written with a decimal comma (``1.200,50``, ``99,5``) and none
  with a decimal point, the whole column is read that way, so ``1.200`` is 1200 there.
* Dates: ISO, ``2026/12/31``, ``Dec 31 2026``, ``31 Dec 2026`` and slash/dot/dash dates
  with a four-digit year; a time of day is ignored. Slash dates are month-first unless
  ``day_first`` is set or some date of the column can only be day-first (``31/12/2026``)
  and none can only be month-first. A column mixing both orders is an error.
* Stages: the five stages, the aliases of :mod:`vectoros_tui.engine.stages`, the default
  stages of Salesforce, HubSpot and Pipedrive (:data:`CRM_STAGE_ALIASES`) and anything in
  ``stage_map``. Without a stage column a deal is ``prospect``, or ``closed`` when it has
  an outcome.
* A cell that starts with ``'`` followed by ``= + - @``, tab or carriage return loses the
  quote: that is how exports (ours included) neutralise spreadsheet formulas.
* Source id (what makes re-imports update instead of duplicate): the id column when there
  is one (``source_id`` preferred over ``id``); otherwise ``csv:`` plus a hash of the
  normalised title and company, so re-importing an updated export (new stage, value or
  close date) updates the same deals. Two rows of one file with the same source id are an
  error naming both lines.
* Updates: an existing deal changes only in the fields the file has columns for
  (:func:`merge_into`); a new deal gets defaults for the others.
"""

from __future__ import annotations

from vectoros_tui.store.csv_import.applying import apply_import, merge_into
from vectoros_tui.store.csv_import.planning import derived_source_id, plan_import
from vectoros_tui.store.csv_import.results import (
    CsvImportError,
    ImportFileError,
    ImportPlan,
    ImportResult,
    RowError,
)
from vectoros_tui.store.csv_import.vocabulary import (
    COLUMN_ALIASES,
    CRM_STAGE_ALIASES,
    IMPORT_FIELDS,
)

__all__ = [
    "COLUMN_ALIASES",
    "CRM_STAGE_ALIASES",
    "IMPORT_FIELDS",
    "CsvImportError",
    "ImportFileError",
    "ImportPlan",
    "ImportResult",
    "RowError",
    "apply_import",
    "derived_source_id",
    "merge_into",
    "plan_import",
]
