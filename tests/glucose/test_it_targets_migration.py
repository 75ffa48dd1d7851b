"""Migration 0005 gives existing days their pregnancy bands exactly as the rebuild writes them,
and drops the triage snapshots (rebuilt when a list asks)."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.glucose.models import DailySummary, TriageSnapshot
from tests.glucose import factories

BEFORE, AFTER = ("glucose", "0004_triage_snapshot"), ("glucose", "0005_targets")
COLUMNS = ["day", "readings", "below_54", "below_63", "from_63_to_140", "from_63_to_141", "from_70_to_141"]


def _table(patient) -> list[tuple]:
    return list(DailySummary.objects.filter(patient=patient).order_by("day").values_list(*COLUMNS))


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_pregnancy_bands_as_the_rebuild_does(patient):
    # Every edge of the pregnancy bands, a LOW reading, and two local days by the phone's clock
    # (UTC+3: 21:40 UTC is 00:40 the next day).
    values = [39, 53, 54, 62, 63, 69, 70, 140, 141, 142, 180, 250, 401] * 3
    factories.make_egvs(
        patient, datetime(2026, 11, 10, 19, 0, tzinfo=UTC), values, step_minutes=7, delta_seconds=3 * 3600
    )
    expected = _table(patient)
    assert len(expected) == 2 and all(row[3] > row[2] for row in expected)  # 54-62 counted below 63
    assert TriageSnapshot.objects.filter(patient=patient).exists()
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([BEFORE])
        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        assert _table(patient) == expected
        assert not TriageSnapshot.objects.exists()
    finally:
        MigrationExecutor(connection).migrate(latest)
