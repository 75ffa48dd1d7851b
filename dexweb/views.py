"""Site-wide odds and ends that belong to no app."""

from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# Browsers ask for /favicon.ico on every site; a 404 there is a console error on every page.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="#0b6bcb"/>'
    '<path d="M4 19h6l3-8 5 14 3-9h7" fill="none" stroke="#fff" stroke-width="2.6" '
    'stroke-linecap="round" stroke-linejoin="round"/></svg>'
)


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    """The site icon: a glucose trace on dexweb blue."""
    return HttpResponse(FAVICON_SVG, content_type="image/svg+xml")
