"""Import of Dexcom Clarity CSV exports.

rows (layout, values, plausibility) -> records (one row, one unsaved record) -> importer (two
passes, one transaction) with clock (local time to UTC across DST), writing through
apps.glucose.ingest (the one writer, which knows what is stored already);
jobs runs an upload in a Celery task with progress.
"""

from apps.glucose.clarity.importer import (
    ClarityImportResult,
    ClarityRefused,
    import_clarity_file,
)
from apps.glucose.clarity.rows import ClarityFormatError

__all__ = ["ClarityFormatError", "ClarityImportResult", "ClarityRefused", "import_clarity_file"]
