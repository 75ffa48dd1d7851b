"""The username django-axes counts failed logins against.

allauth's login form posts the address as "login" but authenticates with credentials
{"email": ..., "password": ...}, so axes' default lookup (credentials[AXES_USERNAME_FORM_FIELD])
would see None and count every failure from an address under one anonymous name.
"""


def login_username(request, credentials=None) -> str | None:
    credentials = credentials or {}
    for key in ("email", "login", "username"):
        if credentials.get(key):
            return str(credentials[key]).strip().lower()
    data = getattr(request, "POST", None) or {}
    value = data.get("login") or data.get("email")
    return value.strip().lower() if value else None
