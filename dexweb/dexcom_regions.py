"""Where the Dexcom API lives: the built-in emulator or one of Dexcom's regional hosts."""

DEXCOM_REGION_HOSTS = {
    "us": "https://api.dexcom.com",
    "eu": "https://api.dexcom.eu",
    "jp": "https://api.dexcom.jp",
    "sandbox": "https://sandbox-api.dexcom.com",
}
EMULATOR_PATH = "/emulator"


def resolve_dexcom_base_url(value: str, *, public_url: str) -> str:
    """Turn DEXCOM_BASE_URL (a region name, "emulator" or a URL) into a base URL without slash."""
    name = value.strip().lower()
    if name == "emulator":
        return public_url.rstrip("/") + EMULATOR_PATH
    if name in DEXCOM_REGION_HOSTS:
        return DEXCOM_REGION_HOSTS[name]
    return value.strip().rstrip("/")


def dexcom_region_name(base_url: str) -> str:
    """The short name shown to admins for a base URL: us, eu, jp, sandbox or emulator."""
    for name, host in DEXCOM_REGION_HOSTS.items():
        if base_url.rstrip("/") == host:
            return name
    return "emulator"
