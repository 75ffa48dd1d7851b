from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    """The landing page after login."""
    return render(request, "dashboard/home.html")
