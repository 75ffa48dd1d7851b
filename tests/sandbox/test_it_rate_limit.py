from datetime import UTC, datetime

import pytest

from apps.sandbox import ratelimit
from apps.sandbox.models import RateCounter


@pytest.mark.django_db
def test_it_answers_429_with_retry_after_past_the_hourly_limit(settings, connect, get_data):
    token = connect()["access_token"]  # the token exchange counts too: call 1
    settings.EMULATOR_RATE_LIMIT_PER_HOUR = 3
    assert [get_data(token, "devices").status_code for _ in range(2)] == [200, 200]
    response = get_data(token, "devices")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600


@pytest.mark.django_db
def test_it_counts_per_client(settings, connect, get_data):
    ours = connect()["access_token"]
    theirs = connect("SandboxUser1", "other-client", "other-secret")["access_token"]
    settings.EMULATOR_RATE_LIMIT_PER_HOUR = 2  # each client has spent one call on its token
    assert get_data(ours, "devices").status_code == 200
    assert get_data(ours, "devices").status_code == 429
    assert get_data(theirs, "devices").status_code == 200


@pytest.mark.django_db
def test_it_starts_counting_again_each_clock_hour(db):
    first = ratelimit.count_call(client_id="c", now=datetime(2026, 1, 1, 10, 59, 59, tzinfo=UTC))
    second = ratelimit.count_call(client_id="c", now=datetime(2026, 1, 1, 10, 30, tzinfo=UTC))
    third = ratelimit.count_call(client_id="c", now=datetime(2026, 1, 1, 11, 0, 0, tzinfo=UTC))
    assert first == (1, 1) and second == (2, 1800) and third == (1, 3600)
    assert RateCounter.objects.count() == 2
    ratelimit.count_call(client_id="c", now=datetime(2026, 1, 1, 13, 5, tzinfo=UTC))
    assert RateCounter.objects.count() == 1, "hours that ended are forgotten"


@pytest.mark.django_db
def test_it_defaults_to_dexcoms_60000_calls_per_hour(settings):
    del settings.EMULATOR_RATE_LIMIT_PER_HOUR
    assert ratelimit.limit_per_hour() == 60000
