"""Subscription addresses of calendar feeds."""

from urllib.parse import urlsplit, urlunsplit

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag(takes_context=True)
def feed_addresses(context, path: str) -> dict:
    """The feed at `path` as an https address to copy (Google Calendar, Outlook) and as a
    webcal:// link that opens the calendar app's "subscribe" dialog (Apple Calendar, Outlook)."""
    request = context.get("request")
    url = request.build_absolute_uri(path) if request else settings.SITE_URL + path
    parts = urlsplit(url)
    return {"url": url, "webcal": urlunsplit(("webcal", *parts[1:]))}
