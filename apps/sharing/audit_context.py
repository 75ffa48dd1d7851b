"""Who did a sharing change or a look at patient data, and from where: built once in the view.

Services take an AuditContext, never the HttpRequest: they can then be called from a command,
a task or a test with no request at all, and the "from where" is the trusted client address
(apps/accounts/client_address.py), the same one lockout and rate limits see.
"""

from dataclasses import dataclass

from apps.accounts.client_address import client_ip
from apps.accounts.models import User

USER_AGENT_MAX = 500
PATH_MAX = 500


@dataclass(frozen=True)
class AuditContext:
    actor: User | None
    ip_address: str | None = None
    user_agent: str = ""
    path: str = ""  # the page the change was made from

    def entry_fields(self) -> dict:
        """The AuditEntry columns this context fills in (actor apart)."""
        return {"ip_address": self.ip_address, "user_agent": self.user_agent, "path": self.path}


def audit_context_of(request) -> AuditContext:
    """The request's user, trusted address, user agent and path, cut to what AuditEntry stores."""
    return AuditContext(
        actor=request.user if request.user.is_authenticated else None,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
        path=request.get_full_path()[:PATH_MAX],
    )
