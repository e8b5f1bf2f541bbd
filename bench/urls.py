"""The production URLs plus the benchmark's two floor views (only with bench.settings)."""

from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/floor/select/", views.floor_select, name="bench_floor_select"),
    path("bench/floor/insert/", views.floor_insert, name="bench_floor_insert"),
    path("", include("paperclub.urls")),
]
handler403 = "paperclub.views.permission_denied"
