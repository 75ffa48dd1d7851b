from apps.glucose.units import convert_setting_value


def test_it_shows_mmol_settings_in_either_unit():
    assert convert_setting_value(3.9, "mmol/L", "mmol/L") == ("3.9", "mmol/L")
    assert convert_setting_value(3.9, "mmol/L", "mg/dL") == ("70", "mg/dL")
    assert convert_setting_value(180, "mg/dL", "mmol/L") == ("10.0", "mmol/L")
    assert convert_setting_value(0.11, "mmol/L/min", "mg/dL") == ("2", "mg/dL/min")
    assert convert_setting_value(2, "mg/dL/min", "mmol/L") == ("0.11", "mmol/L/min")
    assert convert_setting_value(30, "minutes", "mg/dL") == ("30", "minutes")
    assert convert_setting_value(None, "mg/dL", "mg/dL") == ("—", "mg/dL")
