from django.core.management.base import BaseCommand

from papers.polls import close_due_polls


class Command(BaseCommand):
    help = "Close every poll whose closing time has passed and schedule the winners."

    def handle(self, *args, **options):
        closed = close_due_polls()
        self.stdout.write(f"Closed {closed} poll{'s' if closed != 1 else ''}.")
