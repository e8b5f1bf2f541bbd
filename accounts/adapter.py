from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.models import squash_name
from accounts.timezones import browser_zone
from paperclub.http import is_local_path


def _start_profile(request, user, name: str = "") -> None:
    """New accounts: the display name they gave (never one made from the email: without a
    name others see a neutral one, see User.name) and the browser's time zone."""
    name = squash_name(name)[:80]
    if name and not user.display_name:
        user.display_name = name
    zone = browser_zone(request)
    if zone:
        user.time_zone = zone


class AccountAdapter(DefaultAccountAdapter):
    def is_safe_url(self, url):
        # The site's one rule for `next`: a local path ("abc" would resolve next to the
        # sign-in page and 404).
        return is_local_path(url)

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
        _start_profile(request, user, form.cleaned_data.get("display_name", ""))
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

    def get_signup_form_initial_data(self, sociallogin):
        # The sign-up form (shown when the provider gave no usable email) offers the
        # provider's name as the display name.
        initial = super().get_signup_form_initial_data(sociallogin)
        initial["display_name"] = sociallogin.user.display_name
        return initial
