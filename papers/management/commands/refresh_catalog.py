from django.core.management.base import BaseCommand
from django.db.models import Q

from papers.models import Paper
from papers.tasks import refresh_paper


class Command(BaseCommand):
    help = (
        "Queue an arXiv lookup for catalog papers arXiv has not confirmed: those with an "
        "arXiv ID, and those known only by their title (the worker runs them, spaced out "
        "and retried like any refresh)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=100, help="At most this many papers (default 100)."
        )

    def handle(self, *args, limit: int = 100, **options):
        waiting = Paper.objects.filter(fetched_at__isnull=True).filter(
            Q(arxiv_id__isnull=False) | Q(arxiv_id__isnull=True, url_key__startswith="title:")
        )
        ids = list(waiting.order_by("id").values_list("pk", flat=True)[: max(limit, 0)])
        for paper_id in ids:
            refresh_paper.enqueue(paper_id)
        self.stdout.write(f"Queued {len(ids)} of {waiting.count()} papers for an arXiv lookup.")
