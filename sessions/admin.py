from django.contrib import admin

from sessions.models import Meeting, NoteSection


class NoteSectionInline(admin.StackedInline):
    model = NoteSection
    extra = 0


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["__str__", "starts_at", "state", "source"]
    list_filter = ["state", "source", "club"]
    list_select_related = ["club"]
    raw_id_fields = ["suggestions", "presenters", "poll", "notes_posted_by"]
    inlines = [NoteSectionInline]
