import pytest

DEMO_PASSWORD = "correct-horse-battery-42"


@pytest.fixture
def make_user(db, django_user_model):
    """Create a verified user (allauth email address included) that can sign in at once."""
    from allauth.account.models import EmailAddress

    def _make_user(email="patient@example.com", role="patient", **fields):
        user = django_user_model.objects.create_user(
            email=email, password=DEMO_PASSWORD, role=role, **fields
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    return _make_user


@pytest.fixture
def patient(make_user):
    return make_user("patient@example.com", "patient")


@pytest.fixture
def clinician(make_user):
    return make_user("clinician@example.com", "clinician")
