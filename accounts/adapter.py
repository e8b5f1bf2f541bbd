from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.timezones import known_zone


def _start_profile(request, user, name: str = "") -> None:
    """New accounts: a display name (never the email) and the browser's time zone."""
    if not user.display_name:
        user.display_name = (name or user.email.split("@", 1)[0])[:80]
    browser_zone = known_zone(request.COOKIES.get("tz", "")) if request else ""
    if browser_zone:
        user.time_zone = browser_zone  # kept in a cookie by static/js/app.js


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": (
            "Too many failed sign-in attempts: signing in is locked for up to "
            f"{settings.LOGIN_LOCKOUT_MINUTES} minutes. Wait, then try again, or reset your "
            "password."
        ),
    }

    def pre_authenticate(self, request, **credentials):
        """Marks a refused sign-in as a lockout, so the sign-in page answers 429."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            request.login_locked = True
            raise

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        _start_profile(request, user)
        if commit:
            user.save()
        return user


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """GitHub and Discord sign-ups start their profile the same way."""

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        name = data.get("name") or data.get("username") or ""
        _start_profile(request, user, name)
        return user
