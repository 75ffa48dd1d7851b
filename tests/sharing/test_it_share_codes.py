import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.sharing.models import AuditEntry, Share, ShareCode
from apps.sharing.services import (
    SHARE_CODE_ATTEMPTS_PER_WINDOW,
    share_code_attempt_allowed,
)

pytestmark = pytest.mark.django_db


def _make_code(client, patient) -> str:
    client.force_login(patient)
    page = client.post(reverse("sharing:share_code_create"))
    assert page.status_code == 200
    client.logout()
    return re.search(r"\b([2-9A-Z]{4}-[2-9A-Z]{4})\b", page.content.decode()).group(1)


def test_it_turns_a_code_into_a_share_once(client, patient, clinician, make_user):
    code = _make_code(client, patient)
    assert code.replace("-", "") not in str(list(ShareCode.objects.values_list()))
    client.force_login(clinician)
    response = client.post(reverse("sharing:enter_code"), {"code": code.lower().replace("-", " ")})
    assert response.status_code == 302 and response["Location"] == reverse("sharing:triage")
    assert Share.objects.get().clinician == clinician
    assert AuditEntry.objects.filter(action="share_code_used", actor=clinician).exists()
    second = make_user("second@example.com", "clinician")
    client.force_login(second)
    again = client.post(reverse("sharing:enter_code"), {"code": code})
    assert again.status_code == 400 and "not valid" in again.content.decode()
    assert Share.objects.count() == 1


def test_it_refuses_expired_and_revoked_codes(client, patient, clinician):
    code = _make_code(client, patient)
    ShareCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(clinician)
    assert client.post(reverse("sharing:enter_code"), {"code": code}).status_code == 400
    code = _make_code(client, patient)
    client.force_login(patient)
    client.post(reverse("sharing:share_code_revoke", args=[ShareCode.objects.latest("created_at").pk]))
    client.force_login(clinician)
    assert client.post(reverse("sharing:enter_code"), {"code": code}).status_code == 400
    assert not Share.objects.exists()


def test_it_limits_guessing(client, patient, clinician):
    code = _make_code(client, patient)
    client.force_login(clinician)
    for _ in range(10):
        client.post(reverse("sharing:enter_code"), {"code": "AAAA-AAAA"})
    response = client.post(reverse("sharing:enter_code"), {"code": code})
    assert "Too many attempts" in response.content.decode()
    assert not Share.objects.exists()


def test_it_is_for_clinicians_only(client, patient, other_patient):
    code = _make_code(client, patient)
    client.force_login(other_patient)
    assert client.post(reverse("sharing:enter_code"), {"code": code}).status_code == 404


# Another web worker, or this one after a restart: a fresh Python process on the same database.
GUESS_IN_ANOTHER_PROCESS = """
import sys, django
django.setup()
from django.test import Client
from apps.accounts.models import User
client = Client()
client.force_login(User.objects.get(pk=int(sys.argv[1])))
print([client.post(sys.argv[2], {"code": "AAAA-AAAA"}).status_code for _ in range(int(sys.argv[3]))])
"""


@pytest.mark.django_db(transaction=True)
def test_the_limit_holds_across_processes_and_restarts(client, patient, clinician):
    from tests.sync.test_it_runs_in_real_processes import _database_url

    code = _make_code(client, patient)
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "dexweb.settings_test",
        "DATABASE_URL": _database_url(),
        "DEXWEB_VAR_DIR": str(settings.VAR_DIR),
        "DEXWEB_DOTENV": "/nonexistent/.env",
    }
    guesses = subprocess.run(
        [
            sys.executable,
            "-c",
            GUESS_IN_ANOTHER_PROCESS,
            str(clinician.pk),
            reverse("sharing:enter_code"),
            str(SHARE_CODE_ATTEMPTS_PER_WINDOW),
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert guesses.returncode == 0, guesses.stderr
    assert guesses.stdout.strip() == str([400] * SHARE_CODE_ATTEMPTS_PER_WINDOW)  # wrong, not limited yet
    # That process is gone; here the clinician has used up the attempts all the same.
    client.force_login(clinician)
    response = client.post(reverse("sharing:enter_code"), {"code": code})
    assert "Too many attempts" in response.content.decode()
    assert not Share.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_on_separate_connections_pass_the_limit_no_more(clinician):
    def attempt(_):
        try:  # each thread is a database connection of its own, like another worker
            return share_code_attempt_allowed(clinician_id=clinician.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        allowed = list(pool.map(attempt, range(3 * SHARE_CODE_ATTEMPTS_PER_WINDOW)))
    # A burst may refuse an attempt early (it counted rows of later ones), never allow one more.
    assert 0 < allowed.count(True) <= SHARE_CODE_ATTEMPTS_PER_WINDOW
    assert not share_code_attempt_allowed(clinician_id=clinician.pk)
