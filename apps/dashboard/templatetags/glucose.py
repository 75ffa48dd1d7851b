from django import template

from apps.glucose.units import format_glucose

register = template.Library()


@register.filter
def glucose(value_mgdl, unit):
    """{{ reading.value|glucose:unit }}: mg/dL as a whole number, mmol/L with one decimal."""
    return format_glucose(value_mgdl, unit)


@register.filter
def reading(egv, unit):
    """A stored reading as shown: LOW / HIGH beyond the sensor's range."""
    if egv.status == "low" or (egv.value is not None and egv.value < 40):
        return "LOW"
    if egv.status == "high" or (egv.value is not None and egv.value > 400):
        return "HIGH"
    return format_glucose(egv.value, unit)
