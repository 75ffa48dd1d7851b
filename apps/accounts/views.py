from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from apps.accounts import services
from apps.accounts.forms import AccountDeletionForm, AccountSettingsForm


@login_required
def account_settings(request):
    """The user's own settings: name, time zone and glucose unit."""
    form = AccountSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("account_settings")
    return render(request, "accounts/settings.html", {"form": form})


@login_required
def account_delete(request):
    """Says what deleting the account removes; deletes it once the password is confirmed."""
    form = AccountDeletionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.account_delete(user=user)
        return render(request, "accounts/deleted.html")
    context = {"form": form, "counts": services.account_data_counts(user=request.user)}
    return render(request, "accounts/delete.html", context, status=400 if form.errors else 200)
