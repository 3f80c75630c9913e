from django.urls import path

from decisions.views import history, imports, pages, runs

app_name = "decisions"
urlpatterns = [
    path("", pages.queue, name="queue"),
    path("history/", history.history, name="history"),
    path("history/export.csv", history.history_csv, name="history-csv"),
    path("reports/", pages.reports, name="reports"),
    path("data/", pages.data, name="data"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/generate/", runs.run_generate, name="run-generate"),
    path("runs/<int:pk>/", runs.run_detail, name="run"),
    # --- data import (decisions/views/imports.py) ---
    path("data/import/", imports.import_form, name="import"),
    path("data/imports/<int:pk>/", imports.import_run, name="import-run"),
    # --- end data import ---
]
