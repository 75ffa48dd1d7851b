"""The client's address, as far as dexweb can trust it: the one helper for lockout (django-axes,
AXES_CLIENT_IP_CALLABLE), allauth's rate limits (AccountAdapter.get_client_ip) and the audit
trail's "from where".

Each of settings.TRUSTED_PROXY_COUNT proxies in front of the web server appends the address it
saw to X-Forwarded-For, so the client is the entry that many places from the right; everything
further left was written by the client and may be anything. With no trusted proxy (the default)
the header is ignored and REMOTE_ADDR is the client.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    remote_addr = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return remote_addr  # reached us without passing the proxy: REMOTE_ADDR is the client
    # Fewer hops than proxies: every hop was appended by one of ours, the leftmost is the client.
    return _valid_ip(hops[-min(proxies, len(hops))]) or remote_addr


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
