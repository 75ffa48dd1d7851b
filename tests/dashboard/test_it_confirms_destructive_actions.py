"""Destructive buttons (issue 11) look destructive and ask first, through a static script."""

from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_stop_sharing_asks_to_confirm(client, patient, clinician, make_share):
    make_share(patient, clinician=clinician)
    client.force_login(patient)
    html = client.get(reverse("sharing:sharing")).content.decode()
    assert 'data-confirm="Stop sharing with' in html and 'class="danger">Stop sharing' in html
    assert 'src="/static/js/confirm.js"' in html


def test_delete_account_asks_to_confirm(client, patient):
    client.force_login(patient)
    html = client.get(reverse("account_delete")).content.decode()
    assert 'data-confirm="Delete your account' in html


def test_the_confirm_script_is_static_and_danger_is_styled():
    script = Path("static/js/confirm.js").read_text()
    assert "window.confirm" in script and "preventDefault" in script
    assert "button.danger" in Path("static/css/dexweb.css").read_text()
    disconnect = Path("templates/dexcom/connection.html").read_text()
    assert 'data-confirm="Disconnect Dexcom?' in disconnect and 'class="danger">Disconnect' in disconnect
