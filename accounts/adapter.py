from allauth.account.adapter import DefaultAccountAdapter

from accounts.timezones import known_zone


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # New accounts start with a display name taken from the email's local part,
        # so no page ever shows an address to other members.
        user = super().save_user(request, user, form, commit=False)
        if not user.display_name:
            user.display_name = user.email.split("@", 1)[0][:80]
        # New accounts start in the browser's time zone (see static/js/app.js).
        browser_zone = known_zone(request.COOKIES.get("tz", "")) if request else ""
        if browser_zone:
            user.time_zone = browser_zone
        if commit:
            user.save()
        return user
