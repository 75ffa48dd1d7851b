"""Glucose units: one conversion constant and the formatting every page uses.

Values are stored and computed in mg/dL as Dexcom sends them; mmol/L exists only on screen.
"""

MGDL = "mg/dL"
MMOLL = "mmol/L"
MGDL_PER_MMOLL = 18.018
GLUCOSE_UNITS = (MGDL, MMOLL)


def mgdl_to_mmoll(value_mgdl: float) -> float:
    return value_mgdl / MGDL_PER_MMOLL


def convert_mgdl(value_mgdl, unit: str):
    """A mg/dL value in `unit` (None stays None): the only place mmol/L numbers are made."""
    if value_mgdl is None:
        return None
    if unit == MMOLL:
        return round(value_mgdl / MGDL_PER_MMOLL, 1)
    return round(value_mgdl)


def format_glucose(value_mgdl, unit: str) -> str:
    """mmol/L with one decimal, mg/dL as a whole number; an empty value is an em dash."""
    value = convert_mgdl(value_mgdl, unit)
    if value is None:
        return "—"
    return f"{value:.1f}" if unit == MMOLL else f"{value:d}"


def convert_setting_value(value, setting_unit: str, unit: str) -> tuple[str, str]:
    """An alert setting (value, its unit) shown in the patient's unit: (text, unit label).

    Dexcom reports a device's settings in the unit the device displays (mmol/L settings carry
    decimals, e.g. 3.9 or 0.11 mmol/L/min); settings in minutes stay as they are.
    """
    if value is None:
        return "—", setting_unit
    if setting_unit in (MGDL, MMOLL):
        value_mgdl = value * MGDL_PER_MMOLL if setting_unit == MMOLL else value
        return format_glucose(value_mgdl, unit), unit
    if setting_unit in ("mg/dL/min", "mmol/L/min"):
        rate_mgdl = value * MGDL_PER_MMOLL if setting_unit == "mmol/L/min" else value
        if unit == MMOLL:
            return f"{rate_mgdl / MGDL_PER_MMOLL:.2f}", "mmol/L/min"
        return f"{round(rate_mgdl):d}", "mg/dL/min"
    return f"{value:g}", setting_unit


def range_limits(unit: str) -> dict:
    """The consensus range limits as shown: 54/70/180/250 mg/dL are 3.0/3.9/10.0/13.9 mmol/L."""
    if unit == MMOLL:
        return {"very_low": "3.0", "below_low": "3.8", "low": "3.9", "high": "10.0",
                "above_high": "10.1", "very_high": "13.9", "tight": "7.8"}
    return {"very_low": "54", "below_low": "69", "low": "70", "high": "180", "above_high": "181",
            "very_high": "250", "tight": "140"}


def effective_unit(patient, *, device_unit: str | None) -> str:
    """The patient's own choice, else the unit their Dexcom device shows, else mg/dL."""
    if patient.glucose_unit in GLUCOSE_UNITS:
        return patient.glucose_unit
    if device_unit in GLUCOSE_UNITS:
        return device_unit
    return MGDL
