"""Gzip for HTML pages, except where compression could leak a secret (BREACH).

BREACH recovers a secret from a compressed response's length when the same response also
reflects text the attacker chose. Django masks the CSRF token anew in every response and its
GZipMiddleware pads each body with random bytes, which covers the token; what is left are
secrets that appear once, next to what the user just typed: sign-in, sign-up, password and
second-factor pages (allauth, under /accounts/), recovery codes, share codes (shown in the
answer to a POST), invitation links (the token is in the URL), the emulator's OAuth pages and
the admin. Those are never compressed. What is compressed: answers to GET outside those areas,
which are the patient's pages and the triage list, where the big bodies are (the 90-day trace
embeds its chart data).

Static files do not come through here: WhiteNoise (above this in MIDDLEWARE) serves them
pre-compressed.
"""

import gzip
import secrets

from django.middleware.gzip import GZipMiddleware, re_accepts_gzip
from django.utils.cache import patch_vary_headers

NEVER_COMPRESSED_PREFIXES = ("/accounts/", "/admin/", "/emulator/", "/sharing/invitation/")
COMPRESSED_METHODS = ("GET", "HEAD")
# Django compresses at level 6. On the 90-day trace's 310 KB (its chart data, mostly digits)
# that took 16 ms of server CPU for 88 KB; level 4 takes 4 ms for 95 KB.
COMPRESS_LEVEL = 4


def may_compress(request) -> bool:
    return request.method in COMPRESSED_METHODS and not request.path.startswith(NEVER_COMPRESSED_PREFIXES)


class SelectiveGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if not may_compress(request):
            return response
        if response.streaming:
            return super().process_response(request, response)
        return self._compress_body(request, response)

    def _compress_body(self, request, response):
        """GZipMiddleware's answer for a body held whole (the same headers, the same random
        padding against BREACH), at COMPRESS_LEVEL."""
        if len(response.content) < 200 or response.has_header("Content-Encoding"):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        compressed = _gzip(response.content, max_random_bytes=self.max_random_bytes)
        if len(compressed) >= len(response.content):
            return response
        response.content = compressed
        response.headers["Content-Length"] = str(len(compressed))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag
        response.headers["Content-Encoding"] = "gzip"
        return response


def _gzip(body: bytes, *, max_random_bytes: int) -> bytes:
    """As django.utils.text.compress_string: a file name of random length in the gzip header
    makes the length of equal bodies differ."""
    packed = gzip.compress(body, compresslevel=COMPRESS_LEVEL, mtime=0)
    header = bytearray(packed[:10])
    header[3] = gzip.FNAME
    return bytes(header) + b"a" * secrets.randbelow(max_random_bytes) + b"\x00" + packed[10:]
