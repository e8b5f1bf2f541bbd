from django.core.management.base import BaseCommand, CommandError

from integrations import api
from integrations.commands import COMMANDS


class Command(BaseCommand):
    help = (
        "Register the /paper command with Discord (DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN). "
        "Run it once after setting up the application, and after upgrading Paper Club."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--guild",
            help="Register in one server only (shows at once; global commands can take a while).",
        )

    def handle(self, *args, guild=None, **options):
        if guild is not None and not (guild.isascii() and guild.isdigit()):
            raise CommandError("--guild takes the server's numeric ID.")
        try:
            registered = api.register_commands(COMMANDS, guild_id=guild)
        except api.DiscordError as error:
            raise CommandError(str(error)) from None
        names = ", ".join(f"/{c.get('name')}" for c in registered or [])
        where = f"in server {guild}" if guild else "globally"
        self.stdout.write(self.style.SUCCESS(f"Registered {names} {where}."))
