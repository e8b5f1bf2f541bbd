from django import forms

from integrations.models import SNOWFLAKE_MAX
from integrations.services import checked_snowflake
from paperclub.errors import RuleViolation


class SnowflakeField(forms.CharField):
    def __init__(self, *, what: str, **kwargs):
        self.what = what
        super().__init__(max_length=SNOWFLAKE_MAX, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return checked_snowflake(value, self.what)
        except RuleViolation as error:
            raise forms.ValidationError(error.message) from None


class DiscordLinkForm(forms.Form):
    guild_id = SnowflakeField(
        what="server",
        label="Discord server ID",
        help_text="With Developer Mode on (Discord's Settings → Advanced), right-click the "
        "server's icon, then “Copy Server ID”.",
    )
    channel_id = SnowflakeField(
        what="channel",
        label="Channel ID",
        help_text="Right-click the text channel, then “Copy Channel ID”. Commands are answered "
        "and announcements posted there.",
    )
