from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.glucose import selectors as glucose_selectors
from apps.sharing import selectors, services, triage, triage_table
from apps.sharing.audit_context import audit_context_of
from apps.sharing.decorators import clinician_required, patient_required
from apps.sharing.forms import (
    ClinicShareForm,
    EnterShareCodeForm,
    InvitationForm,
    ShareCodeForm,
    ShareExpiryForm,
    TriageForm,
    end_of_day,
)
from apps.sharing.models import Invitation, Share, ShareCode
from apps.sharing.services import SharingError
from apps.sharing.signup import INVITATION_SESSION_KEY

# --- the patient's side -------------------------------------------------------------------------


def _sharing_page(request, *, status=200, **forms):
    patient = request.user
    context = {
        "shares": selectors.shares_of_patient(patient),
        "invitations": selectors.pending_invitations_of(patient),
        "share_codes": selectors.pending_share_codes_of(patient),
        "invitation_form": forms.get("invitation_form") or InvitationForm(),
        "share_code_form": forms.get("share_code_form") or ShareCodeForm(),
        "clinic_form": forms.get("clinic_form") or ClinicShareForm(),
    }
    return render(request, "sharing/sharing.html", context, status=status)


@login_required
@patient_required
def sharing(request):
    """The patient's sharing page: who can see their data, and ways to share or stop sharing."""
    return _sharing_page(request)


@login_required
@patient_required
@require_POST
def invitation_create(request):
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _sharing_page(request, status=400, invitation_form=form)
    invitation, _token = services.invitation_create(
        audit=audit_context_of(request),
        site_url=request.build_absolute_uri("/").rstrip("/"),
        patient=request.user,
        email=form.cleaned_data["email"],
        share_expires_at=end_of_day(form.cleaned_data["share_until"], request.user.tzinfo),
    )
    messages.success(request, f"Invitation sent to {invitation.email}. The link works for 7 days.")
    return redirect("sharing:sharing")


@login_required
@patient_required
@require_POST
def share_code_create(request):
    """Makes a code and shows it once: only its hash is kept."""
    form = ShareCodeForm(request.POST)
    if not form.is_valid():
        return _sharing_page(request, status=400, share_code_form=form)
    share_code, code = services.share_code_create(
        audit=audit_context_of(request),
        patient=request.user,
        share_expires_at=end_of_day(form.cleaned_data["share_until"], request.user.tzinfo),
    )
    return render(request, "sharing/share_code_created.html", {"code": code, "share_code": share_code})


@login_required
@patient_required
@require_POST
def clinic_share_create(request):
    form = ClinicShareForm(request.POST)
    if not form.is_valid():
        return _sharing_page(request, status=400, clinic_form=form)
    share = services.share_create(
        audit=audit_context_of(request),
        patient=request.user,
        clinic=form.cleaned_data["clinic"],
        expires_at=end_of_day(form.cleaned_data["share_until"], request.user.tzinfo),
    )
    messages.success(request, f"Your data is now shared with {share.recipient_name}.")
    return redirect("sharing:sharing")


@login_required
@patient_required
@require_POST
def share_set_expiry(request, share_id: int):
    share = get_object_or_404(Share, pk=share_id, patient=request.user, revoked_at__isnull=True)
    form = ShareExpiryForm(request.POST)
    if form.is_valid():
        expires_at = end_of_day(form.cleaned_data["share_until"], request.user.tzinfo)
        services.share_set_expiry(audit=audit_context_of(request), share=share, expires_at=expires_at)
        messages.success(request, f"Sharing with {share.recipient_name} updated.")
    else:
        messages.error(request, "Pick today or a later day.")
    return redirect("sharing:sharing")


@login_required
@require_POST
def share_revoke(request, share_id: int):
    """The patient stops a share, or the clinician it names leaves it. Effective at once."""
    share = get_object_or_404(Share, pk=share_id)
    is_patient = share.patient_id == request.user.pk
    if not (is_patient or share.clinician_id == request.user.pk):
        raise Http404
    services.share_revoke(audit=audit_context_of(request), share=share)
    if is_patient:
        messages.success(request, f"{share.recipient_name} can no longer see your data.")
        return redirect("sharing:sharing")
    messages.success(request, f"You no longer see {share.patient.display_name}'s data.")
    return redirect("sharing:received")


@login_required
@patient_required
@require_POST
def invitation_revoke(request, invitation_id: int):
    invitation = get_object_or_404(Invitation, pk=invitation_id, patient=request.user)
    services.invitation_revoke(audit=audit_context_of(request), invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} no longer works.")
    return redirect("sharing:sharing")


@login_required
@patient_required
@require_POST
def share_code_revoke(request, share_code_id: int):
    share_code = get_object_or_404(ShareCode, pk=share_code_id, patient=request.user)
    services.share_code_revoke(audit=audit_context_of(request), share_code=share_code)
    messages.success(request, "The share code no longer works.")
    return redirect("sharing:sharing")


@login_required
def audit_log(request):
    """ "Who saw my data": every look at the user's data by someone else, sharing changes, and
    the latest changes of their target set (kept by apps.glucose.target_choice)."""
    page = Paginator(selectors.audit_entries_about(request.user), 100).get_page(request.GET.get("page"))
    target_changes = glucose_selectors.targets_changes(patient_id=request.user.pk)
    return render(request, "sharing/audit_log.html", {"page": page, "target_changes": target_changes})


# --- the clinician's side -----------------------------------------------------------------------


@login_required
@clinician_required
def triage_list(request):
    """The clinician's patients for a period, most in need of attention first."""
    form = TriageForm(request.GET or None)
    form.is_valid()
    params = getattr(form, "cleaned_data", {})
    period = params.get("period") or 14
    sort = params.get("sort") if params.get("sort") in triage.SORT_KEYS else "attention"
    order = params.get("order") or ("desc" if sort in triage.DESCENDING_BY_DEFAULT else "asc")
    # Each patient's own last full local days (today is still filling up), sorted, searched
    # and counted in SQL over every patient; only one page of rows is computed.
    q = params.get("q") or ""
    result = selectors.triage_page(
        viewer=request.user,
        period_days=period,
        query=q,
        sort=sort,
        descending=order == "desc",
        page_number=request.GET.get("page"),
        page_size=TRIAGE_PAGE_SIZE,
    )
    page = result.page
    # Only the patients actually shown count as looked at.
    services.audit_record_list_views(
        audit=audit_context_of(request),
        patient_ids=[row.patient_id for row in page.object_list],
        page="triage",
    )
    # On a clinician's list: synced at the watched pace for the next hour.
    services.mark_list_watched(
        viewer_id=request.user.pk, patient_ids=[row.patient_id for row in page.object_list]
    )
    context = {
        "form": form,
        "rows": page.object_list,
        "page": page,
        "total": result.total,
        "rows_html": triage_table.rows_html(page.object_list),
        "flagged": result.flagged,
        "period": period,
        "sort": sort,
        "order": order,
        "q": q,
        "period_labels": result.period_labels,
        "columns": _triage_headers(period=period, q=q, sort=sort, order=order),
    }
    return render(request, "sharing/triage.html", context)


TRIAGE_PAGE_SIZE = 100
TRIAGE_COLUMNS = [
    ("name", "Patient"),
    ("last_reading", "Last reading"),
    ("wear", "Time CGM active"),
    ("tir", "TIR 70–180"),
    ("tbr", "TBR <70"),
    ("tbr54", "TBR <54"),
    ("tar", "TAR >180"),
    ("gmi", "GMI"),
    ("cv", "CV"),
    ("gri", "GRI"),
    ("tir_change", "TIR change"),
]


def _triage_headers(*, period: int, q: str, sort: str, order: str) -> list[dict]:
    """Column headers whose links sort by that column (clicking again flips the order)."""
    headers = []
    for key, label in TRIAGE_COLUMNS:
        if key == sort:
            next_order = "asc" if order == "desc" else "desc"
        else:
            next_order = "desc" if key in triage.DESCENDING_BY_DEFAULT else "asc"
        query = urlencode({"period": period, "q": q, "sort": key, "order": next_order})
        headers.append(
            {
                "key": key,
                "label": label,
                "href": f"?{query}",
                "active": key == sort,
                "arrow": ("▼" if order == "desc" else "▲") if key == sort else "",
            }
        )
    return headers


@login_required
@clinician_required
def enter_share_code(request):
    """A clinician types the code a patient gave them; a valid code becomes a share."""
    form = EnterShareCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not services.share_code_attempt_allowed(clinician_id=request.user.pk):
            form.add_error("code", "Too many attempts. Try again in 15 minutes.")
        else:
            try:
                share = services.share_code_redeem(
                    audit=audit_context_of(request), clinician=request.user, code=form.cleaned_data["code"]
                )
            except SharingError as error:
                form.add_error("code", str(error))
            else:
                messages.success(request, f"{share.patient.display_name} now shares their data with you.")
                return redirect("sharing:triage")
    status = 400 if form.errors else 200
    return render(request, "sharing/enter_code.html", {"form": form}, status=status)


@login_required
@clinician_required
def received_shares(request):
    """The shares reaching this clinician, with a way to leave the direct ones."""
    return render(request, "sharing/received.html", {"shares": selectors.shares_reaching(request.user)})


# --- invitation links ---------------------------------------------------------------------------


def invitation(request, token: str):
    """Where an invitation link lands: sign up or sign in as a clinician, then accept."""
    invitation = services.invitation_by_token(token)
    if invitation is None:
        return render(request, "sharing/invitation_unusable.html", {"status": "unknown"}, status=404)
    if not invitation.is_usable:
        return render(
            request,
            "sharing/invitation_unusable.html",
            {"status": invitation.status, "invitation": invitation},
            status=410,
        )
    if not request.user.is_authenticated:
        return _invitation_for_visitor(request, invitation, token)
    if not request.user.is_clinician:
        return render(
            request, "sharing/invitation_wrong_account.html", {"invitation": invitation}, status=403
        )
    if request.method == "POST":
        share = services.invitation_accept(
            audit=audit_context_of(request), invitation=invitation, clinician=request.user
        )
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(request, f"{share.patient.display_name} now shares their data with you.")
        return redirect("sharing:triage")
    return render(request, "sharing/invitation.html", {"invitation": invitation})


def _invitation_for_visitor(request, invitation, token):
    # apps.sharing.signup reads this at sign-up to make the new account a clinician; the invited address
    # is stashed as verified, since only its owner could have the link.
    request.session[INVITATION_SESSION_KEY] = token
    get_adapter(request).stash_verified_email(request, invitation.email)
    here = reverse("sharing:invitation", args=[token])
    context = {"invitation": invitation, "next": here}
    return render(request, "sharing/invitation_visitor.html", context)
