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

from django.middleware.gzip import GZipMiddleware

NEVER_COMPRESSED_PREFIXES = ("/accounts/", "/admin/", "/emulator/", "/sharing/invitation/")
COMPRESSED_METHODS = ("GET", "HEAD")


def may_compress(request) -> bool:
    return request.method in COMPRESSED_METHODS and not request.path.startswith(NEVER_COMPRESSED_PREFIXES)


class SelectiveGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if not may_compress(request):
            return response
        return super().process_response(request, response)
