"""Fill the title keys, and give each club its own copy of details typed by hand.

A paper arXiv has not confirmed (fetched_at is NULL) had its title, authors and year typed
by the first club that suggested it, and every club saw them. From now on those details
live on each club's suggestion; the shared row keeps only its title, as its key.
A title-only paper's url_key becomes "title:" and the new key, unless another row already
has that key (a duplicate, which `manage.py merge_duplicate_papers` merges).
"""

from django.db import migrations

from papers.titles import short_title_key, title_key, title_url_key


def forwards(apps, schema_editor):
    Paper = apps.get_model("papers", "Paper")
    Suggestion = apps.get_model("papers", "Suggestion")
    taken = set(
        Paper.objects.filter(arxiv_id__isnull=True)
        .exclude(url_key__startswith="title:")
        .values_list("url_key", flat=True)
    )
    for paper in Paper.objects.order_by("pk").iterator():
        paper.title_key = title_key(paper.title)
        paper.short_title_key = short_title_key(paper.title)
        fields = ["title_key", "short_title_key"]
        if paper.arxiv_id is None and (paper.url_key or "").startswith("title:"):
            key = title_url_key(paper.title)
            if key not in taken:
                paper.url_key = key
                fields.append("url_key")
            taken.add(paper.url_key)
        if paper.fetched_at is None:
            Suggestion.objects.filter(paper=paper, title="").update(title=paper.title[:300])
            if paper.authors:
                Suggestion.objects.filter(paper=paper, authors="").update(authors=paper.authors)
            if paper.year:
                Suggestion.objects.filter(paper=paper, year__isnull=True).update(year=paper.year)
            paper.authors, paper.year = "", None
            fields += ["authors", "year"]
        paper.save(update_fields=fields)


def backwards(apps, schema_editor):
    """The club copies go back onto the shared rows they came from (the first one wins)."""
    Paper = apps.get_model("papers", "Paper")
    Suggestion = apps.get_model("papers", "Suggestion")
    for paper in Paper.objects.filter(fetched_at__isnull=True).iterator():
        first = Suggestion.objects.filter(paper=paper).order_by("created_at", "pk").first()
        if first is not None:
            paper.authors = first.authors
            paper.year = first.year
            paper.save(update_fields=["authors", "year"])


class Migration(migrations.Migration):
    dependencies = [("papers", "0004_catalog_title_keys_and_club_copies")]

    operations = [migrations.RunPython(forwards, backwards)]
