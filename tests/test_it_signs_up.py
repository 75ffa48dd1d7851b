"""Sign up with email and password through allauth's real views, confirm the email, sign in.

Verification is mandatory: the confirmation link arrives by email (the console in the demo, the
test outbox here) and nobody gets in before following it.
"""

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

PASSWORD = "a-long-new-password-91"
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)")


def sign_up(client, email: str):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def confirmation_path(message) -> str:
    match = CONFIRM_LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def test_it_signs_up_confirms_the_email_and_signs_in(client, db):
    response = sign_up(client, "new.patient@example.com")
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")

    user = get_user_model().objects.get(email="new.patient@example.com")
    assert user.role == "patient"
    assert user.emailaddress_set.get().verified is False
    [message] = mail.outbox
    assert message.to == ["new.patient@example.com"]

    path = confirmation_path(message)
    assert client.get(path).status_code == 200
    response = client.post(path)
    assert response.status_code == 302
    assert user.emailaddress_set.get().verified is True
    # Confirming signs the new user in (ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION).
    assert client.session["_auth_user_id"] == str(user.pk)

    client.post(reverse("account_logout"))
    response = sign_in(client, "new.patient@example.com")
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("home"), follow=True).status_code == 200


def test_it_keeps_an_unconfirmed_user_out(client, db):
    sign_up(client, "unconfirmed@example.com")
    client.post(reverse("account_logout"))

    response = sign_in(client, "unconfirmed@example.com")

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_it_refuses_a_second_account_with_the_same_email(client, make_user):
    make_user("taken@example.com", "patient")

    response = sign_up(client, "Taken@Example.com")

    assert response.status_code in (200, 302)
    assert get_user_model().objects.filter(email__iexact="taken@example.com").count() == 1


def test_the_sign_in_page_renders_inside_the_site_layout(client, db):
    response = client.get(reverse("account_login"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="site-header"' in html
    assert "<title>" in html and "dexweb</title>" in html


def test_admins_manage_users_in_the_django_admin(admin_client, make_user):
    make_user("listed@example.com", "clinician", full_name="Listed Clinician")

    listing = admin_client.get(reverse("admin:accounts_user_changelist"))
    adding = admin_client.get(reverse("admin:accounts_user_add"))

    assert listing.status_code == 200
    assert "listed@example.com" in listing.content.decode()
    assert adding.status_code == 200
