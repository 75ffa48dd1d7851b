"""The client address every part of dexweb uses: REMOTE_ADDR, or the proxies' X-Forwarded-For."""

import pytest
from django.test import RequestFactory

from apps.accounts.client_address import client_ip


def _request(remote_addr="10.0.0.2", forwarded_for=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, None, "10.0.0.2"),
        (0, "203.0.113.9", "10.0.0.2"),  # nobody vouches for the header
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # the client forged 1.2.3.4, our proxy appended
        (2, "1.2.3.4, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # fewer hops than proxies: the leftmost is ours
        (1, None, "10.0.0.2"),  # did not pass the proxy
        (1, "not-an-address", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_it_trusts_only_what_the_configured_proxies_wrote(settings, proxies, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(_request(forwarded_for=forwarded_for)) == expected
