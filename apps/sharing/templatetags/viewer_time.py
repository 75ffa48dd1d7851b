"""`{{ moment|viewer_time:request.user }}`: an instant in the viewer's time zone, zone shown."""

from django import template

from apps.glucose import localtime

register = template.Library()


@register.filter
def viewer_time(moment, viewer) -> str:
    return localtime.viewer_clock_text(moment, viewer.tzinfo)


@register.filter
def viewer_time_seconds(moment, viewer) -> str:
    return localtime.viewer_clock_text(moment, viewer.tzinfo, seconds=True)
