"""Quarantine: bad Dexcom records kept raw with their reason, once per record and reason."""

import logging

from apps.sync.models import QuarantinedRecord
from apps.sync.records import Quarantined

logger = logging.getLogger(__name__)


def quarantine(*, patient_id: int, run_id: int | None, record_type: str, bad: list[Quarantined]) -> int:
    """Keep bad records raw with their reason, once per record and reason (Quarantined.dedupe_key),
    and log each the first time; returns how many were new."""
    by_key = {item.dedupe_key: item for item in bad}
    known = set(
        QuarantinedRecord.objects.filter(
            patient_id=patient_id, record_type=record_type, dedupe_key__in=list(by_key)
        ).values_list("dedupe_key", flat=True)
    )
    new = {key: item for key, item in by_key.items() if key not in known}
    for item in new.values():
        logger.warning(
            "Quarantined a %s record %s of patient %s: %s",
            record_type,
            item.record_id or "(no recordId)",
            patient_id,
            item.reason,
        )
    QuarantinedRecord.objects.bulk_create(
        [
            QuarantinedRecord(
                patient_id=patient_id,
                run_id=run_id,
                record_type=record_type,
                record_id=item.record_id,
                raw=item.raw,
                raw_hash=item.raw_hash,
                dedupe_key=key,
                reason=item.reason,
            )
            for key, item in new.items()
        ],
        ignore_conflicts=True,  # a concurrent run may have written the same entry
    )
    return len(new)
