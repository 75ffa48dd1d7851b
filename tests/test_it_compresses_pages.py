"""HTML pages go out gzipped, except those that show secrets next to user input (BREACH)."""

import gzip
from datetime import UTC, datetime

import pytest

from tests.glucose import factories

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


@pytest.mark.django_db
def test_it_gzips_the_trace_page(client, patient):
    factories.make_egvs(patient, datetime(2026, 11, 10, tzinfo=UTC), [100 + n % 50 for n in range(600)])
    client.force_login(patient)
    plain = client.get(f"/patients/{patient.pk}/trace/day/2026-11-10/")
    packed = client.get(f"/patients/{patient.pk}/trace/day/2026-11-10/", **GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain  # a client that did not ask gets it plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    body = gzip.decompress(packed.content)
    assert b'id="trace-data"' in body
    assert len(packed.content) < len(body) / 2


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_it_never_gzips_the_account_pages(client, path):
    response = client.get(path, **GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response


@pytest.mark.django_db
def test_it_never_gzips_the_answer_to_a_post(client, patient):
    # The new share code is shown once, in the answer to this POST.
    client.force_login(patient)
    response = client.post("/sharing/codes/new/", {"share_until": ""}, **GZIP)
    assert response.status_code == 200 and b"share code" in response.content.lower()
    assert "Content-Encoding" not in response


@pytest.mark.django_db
def test_it_pads_each_gzipped_page_to_a_random_length(client, patient):
    """As Django's GZipMiddleware (BREACH): the same page does not compress to one length."""
    factories.make_egvs(patient, datetime(2026, 11, 10, tzinfo=UTC), [100 + n % 50 for n in range(600)])
    client.force_login(patient)
    url = f"/patients/{patient.pk}/trace/day/2026-11-10/"
    bodies = [client.get(url, **GZIP).content for _ in range(8)]
    assert all(body[3] & 0x08 for body in bodies)  # FNAME: the padding is the gzip file name
    names = [body[10 : body.index(b"\x00", 10)] for body in bodies]
    assert len({len(name) for name in names}) > 1
    assert all(gzip.decompress(body).count(b'id="trace-data"') == 1 for body in bodies)
