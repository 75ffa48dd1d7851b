"""Every writer of readings rebuilds DailySummary in the same transaction: a crash after the
insert leaves neither readings without summaries nor a cursor past readings never summarised."""

import pytest

from apps.glucose import selectors, summaries
from apps.glucose.models import DailySummary, Egv
from apps.sync import services

pytestmark = pytest.mark.django_db


def _summarised_days(patient_id: int) -> dict:
    return dict(DailySummary.objects.filter(patient_id=patient_id).values_list("day", "readings"))


def test_a_crash_in_the_rebuild_takes_the_window_back(api, connect_fake, monkeypatch):
    connection = connect_fake(api, days=2)
    real_rebuild = summaries.rebuild_local_days

    def crash(**kwargs):
        raise RuntimeError("worker killed after the insert")

    monkeypatch.setattr(summaries, "rebuild_local_days", crash)
    with pytest.raises(RuntimeError):
        services.sync_connection(connection_id=connection.pk, api=api)
    assert not Egv.objects.filter(patient_id=connection.user_id).exists()
    assert not DailySummary.objects.filter(patient_id=connection.user_id).exists()

    monkeypatch.setattr(summaries, "rebuild_local_days", real_rebuild)
    services.sync_connection(connection_id=connection.pk, api=api)  # the next run stores and summarises
    stored = len(selectors.egv_series(patient_id=connection.user_id))  # readings with a value
    assert stored > 0
    assert sum(_summarised_days(connection.user_id).values()) == stored
