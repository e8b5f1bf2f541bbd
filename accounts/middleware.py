import zoneinfo

from django.utils import timezone

from accounts.timezones import browser_zone
from paperclub.when import reset_viewer_zone, set_viewer_zone


class UserTimezoneMiddleware:
    """Show times in the viewer's own time zone.

    Signed-in people have one in their profile. For anonymous visitors, a small script
    stores the browser's zone in the `tz` cookie; without it (no JavaScript yet) the
    pages show each club's own time.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            zone = zoneinfo.ZoneInfo(user.time_zone)
        else:
            name = browser_zone(request)
            zone = zoneinfo.ZoneInfo(name) if name else None
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        token = set_viewer_zone(zone)
        try:
            return self.get_response(request)
        finally:
            reset_viewer_zone(token)
