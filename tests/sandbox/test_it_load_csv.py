from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from apps.sandbox import truth
from apps.sandbox.models import RecordedReading, RecordedTrace


def write_trace(tmp_path, rows, header="timestamp,mg/dL"):
    path = tmp_path / "trace.csv"
    path.write_text("\n".join(([header] if header else []) + rows) + "\n")
    return path


@pytest.fixture
def trace_start():
    return (datetime.now(UTC) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


def five_minute_rows(start, values):
    return [
        f"{(start + timedelta(minutes=5 * n)).strftime('%Y-%m-%dT%H:%M:%SZ')},{value}"
        for n, value in enumerate(values)
    ]


@pytest.mark.django_db
def test_it_replays_a_loaded_trace_instead_of_synthetic_readings(
    tmp_path, trace_start, connect, get_data, capsys
):
    values = [100 + n for n in range(24)] + ["Low", "High", "250"]
    call_command(
        "sandbox_load_csv",
        "--user",
        "SandboxUser2",
        str(write_trace(tmp_path, five_minute_rows(trace_start, values))),
    )
    assert "Loaded 27 readings into SandboxUser2" in capsys.readouterr().out

    token = connect("SandboxUser2")["access_token"]
    window = {
        "startDate": (trace_start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "endDate": (trace_start + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    records = get_data(token, "egvs", **window).parsed["records"][::-1]  # oldest first
    inside = [
        r
        for r in records
        if trace_start.strftime("%Y-%m-%dT%H:%M")
        <= r["systemTime"][:16]
        <= (trace_start + timedelta(minutes=130)).strftime("%Y-%m-%dT%H:%M")
    ]
    assert [r["value"] for r in inside] == list(range(100, 124)) + [39, 401, 250]
    assert inside[0]["systemTime"] == trace_start.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert [r["status"] for r in inside[24:26]] == ["low", "high"]
    assert inside[5]["trend"] == "flat" and inside[5]["trendRate"] == 0.2
    # Synthetic readings continue on both sides of the trace.
    assert len(records) > len(inside) + 20
    assert records[::-1] == truth.records(
        sandbox_user_key="SandboxUser2",
        record_type="egvs",
        start=trace_start - timedelta(hours=1),
        end=trace_start + timedelta(hours=4),
    )


@pytest.mark.django_db
def test_it_reads_naive_timestamps_in_the_given_time_zone(tmp_path):
    rows = ["2026-01-05 08:00:00,120", "2026-01-05 08:05,125", "1767600600,130"]
    call_command(
        "sandbox_load_csv",
        "--user",
        "SandboxUser1",
        "--timezone",
        "Europe/Paris",
        str(write_trace(tmp_path, rows, header=None)),
    )
    times = list(RecordedReading.objects.order_by("system_time").values_list("system_time", flat=True))
    assert times[0] == datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
    assert times[1] == datetime(2026, 1, 5, 7, 5, tzinfo=UTC)
    assert times[2] == datetime.fromtimestamp(1767600600, UTC)


@pytest.mark.django_db
def test_it_replaces_readings_when_the_same_span_is_loaded_again(tmp_path, trace_start):
    path = write_trace(tmp_path, five_minute_rows(trace_start, [100, 110, 120]))
    call_command("sandbox_load_csv", "--user", "SandboxUser1", str(path))
    path = write_trace(tmp_path, five_minute_rows(trace_start, [200, 210, 220]))
    call_command("sandbox_load_csv", "--user", "SandboxUser1", str(path))
    assert sorted(RecordedReading.objects.values_list("value", flat=True)) == [200, 210, 220]
    assert RecordedTrace.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rows", "words"),
    [
        (
            ["2026-01-05T08:00:00Z,120", "yesterday at noon,130"],
            "line 3: 'yesterday at noon' is not a timestamp",
        ),
        (["2026-01-05T08:00:00Z,120", "2026-01-05T08:05:00Z,lots"], "line 3: glucose 'lots' is not a number"),
        (["2026-01-05T08:00:00Z,120", "2026-01-05T08:05:00Z"], "line 3: expected 2 columns"),
        (["2026-01-05T08:00:00Z,120", "2026-01-05T08:05:00Z,5000"], "not a plausible reading"),
        (["2026-01-05T08:00:00Z,120"], "fewer than two readings"),
        (["2026-01-05T08:00:00Z,120", "2026-01-05T08:00:00Z,121"], "two readings at"),
    ],
)
def test_it_explains_what_is_wrong_with_a_malformed_csv(tmp_path, rows, words):
    with pytest.raises(CommandError, match=words):
        call_command("sandbox_load_csv", "--user", "SandboxUser1", str(write_trace(tmp_path, rows)))
    assert not RecordedReading.objects.exists()


@pytest.mark.django_db
def test_it_names_the_known_users_for_an_unknown_one(tmp_path, trace_start):
    with pytest.raises(CommandError, match="unknown sandbox user 'SandboxUser99'; known: SandboxUser1"):
        call_command(
            "sandbox_load_csv",
            "--user",
            "SandboxUser99",
            str(write_trace(tmp_path, five_minute_rows(trace_start, [1, 2]))),
        )


@pytest.mark.django_db
def test_it_says_when_the_file_is_missing(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("sandbox_load_csv", "--user", "SandboxUser1", str(tmp_path / "nope.csv"))
