from datetime import UTC, datetime

from tests.glucose import factories


def test_it_downloads_the_agp_as_a_pdf(client, patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [90 + i % 150 for i in range(288 * 3)])
    client.force_login(patient)
    response = client.get(f"/patients/{patient.pk}/agp.pdf?days=14&end=2026-11-05")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert 'filename="agp-2026-10-23-2026-11-05.pdf"' in response["Content-Disposition"]


def test_the_agp_page_has_percentiles_and_14_daily_profiles(client, patient):
    factories.make_egvs(patient, datetime(2026, 11, 1, tzinfo=UTC), [120] * 288)
    client.force_login(patient)
    html = client.get(f"/patients/{patient.pk}/agp/?days=14&end=2026-11-05").content.decode()
    import json

    data = json.loads(html.split('id="agp-data">')[1].split("</script>")[0])
    assert data["agp"]["p50"][0] == 120 and len(data["profiles"]) == 14
    assert "Download PDF" in html
    assert "needs 10+ days of data" in html  # GMI on one day of data
