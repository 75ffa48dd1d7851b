"""The clinician's weekly digest: one PDF page per shared patient (flagged first), downloadable
by clinicians only, emailed on Mondays to those who asked, once, and audited per patient."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.dashboard import digest, tasks
from apps.sharing.models import AuditEntry, DigestSubscription
from tests.glucose import factories


@pytest.fixture
def clinic_week(clinician, make_user, make_share):
    """Two patients sharing with the clinician (Ann steady, Bob with lows), Cy not sharing."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=7)  # up to now
    ann = make_user("ann@example.com", full_name="Ann Steady")
    bob = make_user("bob@example.com", full_name="Bob Lows")
    cy = make_user("cy@example.com", full_name="Cy Private")
    for patient, value_for in (
        (ann, lambda i: 120),
        (bob, lambda i: 60 if i % 288 < 40 else 140),
        (cy, lambda i: 50),
    ):
        factories.make_egvs(patient, start, [value_for(i) for i in range(7 * 288)])
    make_share(ann, clinician=clinician)
    make_share(bob, clinician=clinician)
    return clinician, ann, bob, cy


def test_the_digest_has_the_shared_patients_flagged_first(clinic_week):
    clinician, ann, bob, cy = clinic_week
    patients = digest.digest_patients(clinician=clinician, now=timezone.now())
    assert [p.row.name for p in patients] == ["Bob Lows", "Ann Steady"]
    assert "TBR <70 > 4%" in patients[0].row.flags
    assert patients[1].row.flags == []
    body = digest.digest_pdf(clinician=clinician, patients=patients, now=timezone.now(), compress=False)
    assert body.count(b"/Type /Page") - body.count(b"/Type /Pages") == 2  # one page per patient
    text = body.decode("latin-1")
    assert "Bob Lows" in text and "Ann Steady" in text and "Cy Private" not in text
    assert "TBR <70 > 4%" in text.replace("\\", "")


def test_only_clinicians_download_it_and_each_patient_in_it_is_audited(client, clinic_week, make_user):
    clinician, ann, bob, cy = clinic_week
    client.force_login(ann)
    assert client.get(reverse("digest_pdf")).status_code == 404
    assert client.get(reverse("digest")).status_code == 404
    client.force_login(clinician)
    response = client.get(reverse("digest_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    audited = set(
        AuditEntry.objects.filter(page="weekly-digest", actor=clinician).values_list("patient_id", flat=True)
    )
    assert audited == {ann.pk, bob.pk}


def test_a_clinician_turns_the_email_on_and_gets_it_once(client, clinic_week, mailoutbox):
    clinician, ann, bob, cy = clinic_week
    client.force_login(clinician)
    assert client.post(reverse("digest"), {"email": "on"}).status_code == 302
    assert DigestSubscription.objects.filter(clinician=clinician).exists()
    assert tasks.send_digest(clinician.pk) is True
    assert tasks.send_digest(clinician.pk) is False  # a duplicate delivery sends nothing twice
    (message,) = mailoutbox
    assert message.to == [clinician.email]
    assert message.subject == "dexweb weekly digest: 2 patients, 1 flagged"
    (name, body, mimetype) = message.attachments[0]
    assert mimetype == "application/pdf" and body.startswith(b"%PDF")
    # A week later it goes again.
    DigestSubscription.objects.filter(clinician=clinician).update(
        last_sent_at=timezone.now() - timedelta(days=7)
    )
    assert tasks.send_digest(clinician.pk) is True
    assert len(mailoutbox) == 2


def test_no_email_without_asking_and_none_after_turning_it_off(client, clinic_week, mailoutbox):
    clinician, *_ = clinic_week
    assert tasks.send_digest(clinician.pk) is False
    client.force_login(clinician)
    client.post(reverse("digest"), {"email": "on"})
    client.post(reverse("digest"), {})
    assert tasks.send_weekly_digests() == 0
    assert tasks.send_digest(clinician.pk) is False
    assert mailoutbox == []


def test_beat_sends_the_digests_on_monday_mornings():
    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-weekly-digests"]
    assert entry["task"] == tasks.send_weekly_digests.name
    assert entry["schedule"].day_of_week == {1} and entry["schedule"].hour == {6}


def test_the_digest_flags_each_patient_by_their_target_set(clinic_week):
    from apps.glucose import targets
    from apps.glucose.target_choice import TargetsChoice, targets_choose

    clinician, ann, bob, _cy = clinic_week
    for patient in (ann, bob):
        choice = TargetsChoice(targets.PREGNANCY_T1)
        targets_choose(patient_id=patient.pk, choice=choice, actor=clinician, ip_address=None)
    patients = {p.row.name: p for p in digest.digest_patients(clinician=clinician, now=timezone.now())}
    assert "TBR <63 > 4%" in patients["Bob Lows"].row.flags  # 60 mg/dL is below 63 too
    assert patients["Ann Steady"].row.flags == []  # 120 is inside 63-140
    body = digest.digest_pdf(
        clinician=clinician, patients=list(patients.values()), now=timezone.now(), compress=False
    )
    text = body.decode("latin-1").replace("\\", "")
    assert "TBR <63 > 4%" in text and "within the targets this week (Pregnancy with type 1)" in text
