"""Sharing services take an actor and an audit context, never the HttpRequest."""

import inspect

import pytest

from apps.sharing import services
from apps.sharing.audit_context import AuditContext
from apps.sharing.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_no_sharing_service_takes_the_request():
    public = [
        f
        for name, f in vars(services).items()
        if inspect.isfunction(f) and not name.startswith("_") and f.__module__ == services.__name__
    ]
    takes_request = [f.__name__ for f in public if "request" in inspect.signature(f).parameters]
    assert public and takes_request == []


def test_a_share_made_without_a_request_is_audited_from_its_context(patient, clinician):
    audit = AuditContext(actor=clinician, ip_address="203.0.113.7", user_agent="a script", path="/cli")
    _share_code, code = services.share_code_create(audit=AuditContext(actor=patient), patient=patient)

    share = services.share_code_redeem(audit=audit, clinician=clinician, code=code)

    used = AuditEntry.objects.get(action=AuditEntry.Action.SHARE_CODE_USED)
    assert (used.actor, used.actor_email, used.patient) == (clinician, clinician.email, patient)
    assert (used.ip_address, used.user_agent, used.path) == ("203.0.113.7", "a script", "/cli")
    created = AuditEntry.objects.get(action=AuditEntry.Action.SHARE_CREATED)
    assert created.actor == clinician and share.clinician == clinician
    made = AuditEntry.objects.get(action=AuditEntry.Action.SHARE_CODE_CREATED)
    assert (made.actor, made.ip_address, made.user_agent, made.path) == (patient, None, "", "")
