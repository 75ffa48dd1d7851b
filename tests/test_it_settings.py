import pytest
from django.core.exceptions import ImproperlyConfigured

from dexweb import config_checks
from dexweb.dexcom_regions import resolve_dexcom_base_url


def test_region_names_map_to_dexcom_hosts():
    public = "http://127.0.0.1:8000"
    assert resolve_dexcom_base_url("us", public_url=public) == "https://api.dexcom.com"
    assert resolve_dexcom_base_url("EU", public_url=public) == "https://api.dexcom.eu"
    assert resolve_dexcom_base_url("jp", public_url=public) == "https://api.dexcom.jp"
    assert resolve_dexcom_base_url("sandbox", public_url=public) == "https://sandbox-api.dexcom.com"
    assert resolve_dexcom_base_url("emulator", public_url=public) == public + "/emulator"
    assert resolve_dexcom_base_url("http://x:9/", public_url=public) == "http://x:9"


def test_a_bad_fernet_key_is_refused_by_name():
    with pytest.raises(ImproperlyConfigured, match="TOKEN_ENCRYPTION_KEYS: key #2"):
        config_checks.check_fernet_keys(["ZGV4d2ViLWRldi1vbmx5LWZlcm5ldC1rZXktMDAwMDA=", "short"])
