"""The targets page: who may see and change a patient's target set, the form's checks, the
history, and the pages that follow the choice (shading, TIR bar labels, checkmarks)."""

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.glucose import targets
from apps.glucose.models import PatientTargets, TargetsChange
from apps.sharing.models import AuditEntry

pytestmark = pytest.mark.django_db


def url(name, patient, query=""):
    return reverse(name, kwargs={"patient_id": patient.pk}) + query


def choose(client, patient, key, **numbers):
    return client.post(url("targets", patient), {"target_set": key, **numbers})


SANE_CUSTOM = {"low": "80", "high": "160", "in_range_min": "65", "below_max": "3", "above_max": "30"}


def choose_custom(client, patient, **changes):
    """A custom set: 80-160 with goals 65/3/30, but for `changes`."""
    return choose(client, patient, targets.CUSTOM, **{**SANE_CUSTOM, **changes})


def chart_data(response, element_id) -> dict:
    match = re.search(
        rf'<script type="application/json" id="{element_id}">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(match.group(1))


def test_a_patient_sees_the_standard_set_and_chooses_pregnancy(client, patient_with_data):
    client.force_login(patient_with_data)
    page = client.get(url("targets", patient_with_data))
    assert page.status_code == 200
    html = page.content.decode()
    assert "In force: Standard (most adults with type 1 or type 2)" in html and "70–180 mg/dL" in html
    assert f'href="{url("targets", patient_with_data)}"' in html  # in the patient pages' navigation
    response = choose(client, patient_with_data, targets.PREGNANCY_T1)
    assert response.status_code == 302 and response["Location"] == url("targets", patient_with_data)
    assert PatientTargets.objects.get(patient=patient_with_data).target_set == targets.PREGNANCY_T1
    html = client.get(url("targets", patient_with_data)).content.decode()
    assert "In force: Pregnancy with type 1" in html and "63–140 mg/dL" in html
    [change] = TargetsChange.objects.filter(patient=patient_with_data)
    assert change.actor == patient_with_data and change.after.startswith("Pregnancy with type 1")
    assert change.actor_email in html


def test_the_pages_follow_the_chosen_set(client, patient_with_data):
    client.force_login(patient_with_data)
    before = client.get(url("trace", patient_with_data))
    assert chart_data(before, "trace-data")["target"] == [70, 180]
    choose(client, patient_with_data, targets.PREGNANCY_T1)
    trace = client.get(url("trace", patient_with_data))
    assert chart_data(trace, "trace-data")["target"] == [63, 140]
    assert "Shaded: target range 63–140 mg/dL (Pregnancy with type 1)" in trace.content.decode()
    agp = client.get(url("agp", patient_with_data))
    assert chart_data(agp, "agp-data")["target"] == [63, 140]
    bands = {band["key"]: band for band in agp.context["bands"]}
    assert bands["in_range"]["label"] == "In range (63–140)" and bands["in_range"]["target"] == ">70%"
    assert bands["low"]["label"] == "Low (54–62)" and bands["low"]["target"] == "<4% below 63"
    assert bands["high"]["label"] == "High (141–250)" and bands["high"]["target"] == "<25% above 140"
    assert bands["very_high"]["target"] == "" and bands["very_high"]["met"] is None  # no goal in pregnancy
    # The consensus metrics stay standard.
    assert agp.context["metrics"]["tir_70_180_percent"] > bands["in_range"]["percent"]
    overview = client.get(url("overview", patient_with_data))
    assert chart_data(overview, "mini-data")["target"] == [63, 140]
    assert {b["key"]: b for b in overview.context["bands"]}["in_range"]["label"] == "In range (63–140)"
    daily = client.get(url("daily", patient_with_data))
    assert chart_data(daily, "overlay-data")["target"] == [63, 140]
    compare = client.get(url("compare", patient_with_data))
    assert chart_data(compare, "compare-data")["target"] == [63, 140]
    assert compare.context["first_bands"][2]["label"] == "In range (63–140)"


def test_an_mmol_reader_sees_the_set_in_mmol(client, patient_with_data):
    patient_with_data.glucose_unit = "mmol/L"
    patient_with_data.save(update_fields=["glucose_unit"])
    client.force_login(patient_with_data)
    choose(client, patient_with_data, targets.PREGNANCY_T1)
    agp = client.get(url("agp", patient_with_data))
    data = chart_data(agp, "agp-data")
    assert [round(v / data["divisor"], 1) for v in data["target"]] == [3.5, 7.8]
    bands = {band["key"]: band for band in agp.context["bands"]}
    assert bands["in_range"]["label"] == "In range (3.5–7.8)" and bands["low"]["label"] == "Low (3.0–3.4)"


def test_checkmarks_follow_the_set(client, patient):
    from tests.glucose import factories

    # 60% in range every day: misses the adults' >70%, meets the older / high-risk >50%.
    pattern = [120] * 60 + [200] * 40
    factories.make_days(
        patient, last_day_start=factories.recent_day_start(1), days=14, value_for=lambda i: pattern[i % 100]
    )
    client.force_login(patient)

    def in_range() -> dict:
        bands = client.get(url("overview", patient)).context["bands"]
        return {b["key"]: b for b in bands}["in_range"]

    assert in_range()["met"] is False and in_range()["target"] == ">70%"
    choose(client, patient, targets.OLDER_HIGH_RISK)
    assert in_range()["met"] is True and in_range()["target"] == ">50%"


def test_a_custom_set_is_checked_with_clear_errors(client, patient_with_data):
    client.force_login(patient_with_data)
    response = choose_custom(
        client, patient_with_data, low="40", high="300", in_range_min="70", below_max="4", above_max="25"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The low limit must be between 54 and 100 mg/dL." in html
    assert "The high limit must be between 120 and 250 mg/dL." in html
    assert 'value="40"' in html  # what was typed is kept
    assert not PatientTargets.objects.exists()
    response = choose_custom(client, patient_with_data)
    assert response.status_code == 302
    trace = client.get(url("trace", patient_with_data))
    assert chart_data(trace, "trace-data")["target"] == [80, 160]
    form = client.get(url("targets", patient_with_data)).context["form"]
    assert form["low"].value() == "80" and form["in_range_min"].value() == "65"


def test_an_mmol_reader_enters_a_custom_range_in_mmol(client, patient_with_data):
    patient_with_data.glucose_unit = "mmol/L"
    patient_with_data.save(update_fields=["glucose_unit"])
    client.force_login(patient_with_data)
    response = choose_custom(client, patient_with_data, low="3,8", high="8.0")
    assert response.status_code == 302
    row = PatientTargets.objects.get(patient=patient_with_data)
    assert (row.custom_low, row.custom_high, row.custom_unit) == (Decimal("3.8"), Decimal("8.0"), "mmol/L")
    assert "3.8–8.0 mmol/L" in client.get(url("targets", patient_with_data)).content.decode()
    bad = choose_custom(client, patient_with_data, low="3.85", high="8.0")
    assert "Use one decimal in mmol/L." in bad.content.decode()


def test_an_unknown_set_is_refused(client, patient):
    client.force_login(patient)
    response = choose(client, patient, "paediatric")
    assert response.status_code == 200 and response.context["form"].errors["target_set"]
    assert not PatientTargets.objects.exists()


# --- who may -------------------------------------------------------------------------------------


def test_a_clinician_with_a_share_changes_it_and_the_look_is_audited(
    client, patient_with_data, clinician, make_share
):
    make_share(patient_with_data, clinician=clinician)
    client.force_login(clinician)
    assert client.get(url("targets", patient_with_data)).status_code == 200
    assert AuditEntry.objects.filter(patient=patient_with_data, actor=clinician, page="targets").exists()
    assert choose(client, patient_with_data, targets.OLDER_HIGH_RISK).status_code == 302
    [change] = TargetsChange.objects.filter(patient=patient_with_data)
    assert change.actor == clinician and change.actor_email == clinician.email
    # The patient reads who changed it.
    client.force_login(patient_with_data)
    assert clinician.email in client.get(url("targets", patient_with_data)).content.decode()


def test_a_clinician_without_a_share_gets_a_404(client, patient_with_data, clinician):
    client.force_login(clinician)
    assert client.get(url("targets", patient_with_data)).status_code == 404
    assert choose(client, patient_with_data, targets.PREGNANCY_T1).status_code == 404
    assert not PatientTargets.objects.exists()


def test_a_revoked_share_loses_access_at_once(client, patient_with_data, clinician, make_share):
    share = make_share(patient_with_data, clinician=clinician)
    client.force_login(clinician)
    assert client.get(url("targets", patient_with_data)).status_code == 200
    from django.utils import timezone

    share.revoked_at = timezone.now()
    share.save(update_fields=["revoked_at"])
    assert client.get(url("targets", patient_with_data)).status_code == 404
    assert choose(client, patient_with_data, targets.PREGNANCY_T1).status_code == 404
    assert not PatientTargets.objects.exists()


def test_another_patient_gets_a_404(client, patient_with_data, other_patient):
    client.force_login(other_patient)
    assert client.get(url("targets", patient_with_data)).status_code == 404
    assert choose(client, patient_with_data, targets.PREGNANCY_T1).status_code == 404


def test_staff_may_read_but_not_change(client, patient_with_data, make_user):
    from django.contrib.auth.models import Permission

    staff = make_user("support@example.com", role="admin", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_all_patient_data"))
    client.force_login(staff)
    page = client.get(url("targets", patient_with_data))
    assert page.status_code == 200 and 'id="targets-form"' not in page.content.decode()
    assert choose(client, patient_with_data, targets.PREGNANCY_T1).status_code == 404
    assert not PatientTargets.objects.exists()


def test_a_clinician_who_may_see_everyone_still_needs_a_share_to_change(client, patient_with_data, clinician):
    from django.contrib.auth.models import Permission

    clinician.is_staff = True
    clinician.save(update_fields=["is_staff"])
    clinician.user_permissions.add(Permission.objects.get(codename="view_all_patient_data"))
    client.force_login(clinician)
    assert client.get(url("targets", patient_with_data)).status_code == 200
    assert choose(client, patient_with_data, targets.PREGNANCY_T1).status_code == 404
    assert not PatientTargets.objects.exists()


def test_the_patient_reads_a_clinicians_change_in_who_saw_my_data(
    client, patient_with_data, clinician, make_share
):
    make_share(patient_with_data, clinician=clinician)
    client.force_login(clinician)
    # The change, then the page it leads back to (the look that is audited).
    client.post(url("targets", patient_with_data), {"target_set": targets.PREGNANCY_T1}, follow=True)
    client.force_login(patient_with_data)
    html = client.get(reverse("sharing:audit_log")).content.decode()
    changes = html[html.index('id="target-changes"') :]
    assert clinician.email in changes and "Pregnancy with type 1: 63–140 mg/dL" in changes
    assert "targets" in html[: html.index('id="target-changes"')]  # the clinician's look at the page


def test_target_changes_can_only_be_added(patient):
    change = TargetsChange.objects.create(patient=patient, before="a", after="b")
    change.after = "c"
    with pytest.raises(PermissionError):
        change.save()


def test_a_custom_range_is_offered_in_the_unit_read_now(client, patient_with_data):
    client.force_login(patient_with_data)
    choose_custom(client, patient_with_data)
    patient_with_data.glucose_unit = "mmol/L"
    patient_with_data.save(update_fields=["glucose_unit"])
    form = client.get(url("targets", patient_with_data)).context["form"]
    assert (form["low"].value(), form["high"].value(), form["below_max"].value()) == ("4.4", "8.9", "3")
