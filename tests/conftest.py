from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

DEMO_PASSWORD = "correct-horse-battery-42"
# Base32 TOTP secret of test clinicians/admins; codes: tests.conftest.totp_code().
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str = TEST_TOTP_SECRET, *, steps_ahead: int = 0) -> str:
    """The TOTP code for `secret` `steps_ahead` steps from now, with allauth's own helpers.

    The settings accept one step either way (MFA_TOTP_TOLERANCE), so a code taken just before
    its step ends is still good when the server checks it, and the next step's code is a fresh
    one that signs in now (no waiting out the step after a code was used)."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // app_settings.TOTP_PERIOD + steps_ahead
    return format_hotp_value(hotp_value(secret, counter))


def a_fresh_totp_code(used: str, secret: str = TEST_TOTP_SECRET) -> str:
    """A code within the accepted window that is not `used` (allauth refuses a replay)."""
    return next(code for code in (totp_code(secret, steps_ahead=s) for s in (1, -1)) if code != used)


# Modules that wait on real processes, real clocks or a browser run first (workers, then e2e):
# `make test` hands whole files to each pytest-xdist worker as it runs dry (--dist loadfile
# --no-loadscope-reorder), so a 70-second file taken last would leave the other core idle.
_FIRST_MARKS = ("worker", "e2e")


@pytest.hookimpl(trylast=True)  # after tests/e2e/conftest.py has marked its items
def pytest_collection_modifyitems(config, items):
    rank = {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        item_rank = next((n for n, name in enumerate(_FIRST_MARKS) if name in marks), len(_FIRST_MARKS))
        module = item.nodeid.split("::")[0]
        rank[module] = min(rank.get(module, item_rank), item_rank)
    items.sort(key=lambda item: rank[item.nodeid.split("::")[0]])  # stable: files stay whole


def create_user(email="patient@example.com", role="patient", *, with_totp=None, **fields):
    """A verified user (allauth email address included) that can sign in at once."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(email=email, password=DEMO_PASSWORD, role=role, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    # Clinicians and admins must have a second factor (apps.accounts.middleware) or every
    # page sends them to the TOTP setup; give them one unless a test wants them without.
    if with_totp if with_totp is not None else role in ("clinician", "admin"):
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, TEST_TOTP_SECRET)
    return user


@pytest.fixture
def make_user(db):
    """make_user(email, role, with_totp=None, **fields): create_user for one test."""
    return create_user


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """For module-scoped fixtures that seed data once for a module's tests.

    What they write inside is kept in a transaction that outlives the module's tests (each test
    still runs in its own savepoint, rolled back after it) and is rolled back after the last.
    Not for modules with transactional tests or a live server: those see another connection.
    """
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def patient(make_user):
    return make_user("patient@example.com", "patient")


@pytest.fixture
def clinician(make_user):
    return make_user("clinician@example.com", "clinician")


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's admin_user (and so admin_client), with the TOTP admins must have."""
    from allauth.mfa.totp.internal.auth import TOTP

    user = django_user_model.objects.create_superuser(email="admin@example.com", password="password")
    TOTP.activate(user, TEST_TOTP_SECRET)
    return user


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits (allauth's, share-code attempts) and used TOTP codes live in the cache,
    # which outlives a test; each test starts from a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def other_patient(make_user):
    return make_user("other@example.com", "patient")


@pytest.fixture
def make_share():
    from apps.sharing.models import Share

    def _make_share(patient, *, clinician=None, clinic=None, expires_in=None, revoked=False):
        now = timezone.now()
        return Share.objects.create(
            patient=patient,
            clinician=clinician,
            clinic=clinic,
            created_at=now - timedelta(days=30),
            expires_at=now + expires_in if expires_in is not None else None,
            revoked_at=now - timedelta(minutes=1) if revoked else None,
        )

    return _make_share
