from django.contrib import admin

from clubs.models import Club, Invite, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Club)
class ClubAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "visibility", "joining", "time_zone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "club", "role", "joined_at"]
    list_filter = ["role", "club"]
    list_select_related = ["user", "club"]
    raw_id_fields = ["user"]


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = [
        "club",
        "created_by",
        "created_at",
        "expires_at",
        "use_count",
        "max_uses",
        "revoked_at",
    ]
    list_select_related = ["club", "created_by"]
    raw_id_fields = ["created_by"]
