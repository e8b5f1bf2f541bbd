from django.contrib import admin

from papers.models import Paper, Poll, Suggestion, Tally, Vote


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["title", "arxiv_id", "year", "created_at"]
    search_fields = ["title", "authors", "arxiv_id", "url"]


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["paper", "club", "suggested_by", "state", "created_at"]
    list_filter = ["state", "club"]
    list_select_related = ["paper", "club", "suggested_by"]
    raw_id_fields = ["paper", "suggested_by"]


class TallyInline(admin.TabularInline):
    model = Tally
    extra = 0
    raw_id_fields = ["suggestion"]


@admin.register(Poll)
class PollAdmin(admin.ModelAdmin):
    list_display = ["pk", "club", "opened_at", "closes_at", "closed_at", "winner"]
    list_filter = ["club"]
    list_select_related = ["club", "winner__paper"]
    raw_id_fields = ["winner", "opened_by", "closed_by", "overridden_by"]
    inlines = [TallyInline]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["poll", "suggestion", "membership", "cast_at"]
    list_select_related = ["poll__club", "suggestion__paper", "membership__user"]
    raw_id_fields = ["poll", "suggestion", "membership"]
