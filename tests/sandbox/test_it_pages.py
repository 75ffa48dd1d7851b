import pytest
from django.urls import reverse

from apps.sandbox import services
from apps.sandbox.models import AccessToken, Grant, RefreshToken
from tests.sandbox.conftest import REDIRECT_URI, refresh


@pytest.mark.django_db
def test_it_lets_a_user_revoke_an_app_on_the_grants_page(api, staff_api, connect, get_data):
    tokens = connect("SandboxUser1")
    grant = Grant.objects.get()
    page = staff_api.get(reverse("sandbox:grants"))
    assert "dexweb-demo-client" in page.content.decode() and "Revoke" in page.content.decode()
    response = staff_api.post(reverse("sandbox:grants"), {"grant_id": grant.pk}, follow=True)
    assert "Revoked dexweb-demo-client" in response.content.decode()
    assert (
        get_data(
            tokens["access_token"], "egvs", startDate="2026-01-01T00:00:00", endDate="2026-01-02T00:00:00"
        ).status_code
        == 401
    )
    assert refresh(api, tokens["refresh_token"]).json()["error"] == "invalid_grant"


@pytest.mark.django_db
def test_it_lists_the_sandbox_users_on_the_index(staff_api):
    page = staff_api.get(reverse("sandbox:index")).content.decode()
    assert "SandboxUser1" in page and "SandboxUser7" in page


@pytest.mark.django_db
def test_it_creates_the_sandbox_users_once(db):
    first = services.ensure_sandbox_users()
    second = services.ensure_sandbox_users()
    assert [user.key for user in first] == [f"SandboxUser{n}" for n in range(1, 8)]
    assert [user.pk for user in first] == [user.pk for user in second]


@pytest.mark.django_db
def test_it_refuses_a_code_for_an_unknown_client_or_user(db):
    with pytest.raises(services.OAuthError, match="unknown client_id"):
        services.authorization_code_for(
            sandbox_user_key="SandboxUser1", client_id="x", redirect_uri=REDIRECT_URI
        )
    with pytest.raises(services.OAuthError, match="unknown sandbox user"):
        services.authorization_code_for(
            sandbox_user_key="Nobody", client_id="dexweb-demo-client", redirect_uri=REDIRECT_URI
        )


@pytest.mark.django_db
def test_it_registers_emulator_rows_in_the_admin_without_token_hashes(rf, django_user_model, connect):
    # Checked on the ModelAdmin itself: the site's staff pages also demand a second factor,
    # which is the accounts app's business, not the emulator's.
    from django.contrib import admin

    from apps.sandbox.models import AuthorizationCode, Fault, RateCounter, RecordedTrace, SandboxUser

    connect("SandboxUser1")
    request = rf.get("/admin/")
    request.user = django_user_model.objects.create_superuser(
        email="root@example.com", password="x-long-pass-42"
    )
    for model in (AccessToken, RefreshToken, AuthorizationCode):
        model_admin = admin.site._registry[model]
        row = model.objects.first()
        fields = model_admin.get_fields(request, row)
        assert "token_hash" not in fields and "code_hash" not in fields, model
        assert not any("hash" in str(column) for column in model_admin.get_list_display(request)), model
        assert model_admin.has_add_permission(request) is False
    for model in (SandboxUser, Grant, Fault, RateCounter, RecordedTrace):
        assert model in admin.site._registry, model


@pytest.mark.django_db
def test_it_prints_working_tokens_for_curl(capsys, get_data):
    from django.core.management import call_command

    call_command("sandbox_token", "--user", "SandboxUser3")
    output = capsys.readouterr().out
    access = output.split("access_token:")[1].split()[0]
    assert get_data(access, "devices").parsed["records"][0]["displayDevice"] == "receiver"
    assert "curl -s -H" in output and "/emulator/v3/users/self/egvs?startDate=" in output


@pytest.mark.django_db
def test_it_explains_a_bad_user_for_the_token_command():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="unknown sandbox user"):
        call_command("sandbox_token", "--user", "Nobody")
