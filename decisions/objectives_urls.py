"""URLs of the guardrail, policy and objective pages, under the "objectives" namespace they always had.

The pages moved into decisions (they show runs, backtests and when guardrails triggered, and objectives
may not import decisions), but templates, tests and bookmarks know them as objectives:…; so the names and
paths stay, and only the module that maps them sits here, beside the views.
"""

from django.urls import path

from decisions.views import guardrails, objectives

app_name = "objectives"
urlpatterns = [
    path("guardrails/", guardrails.guardrails, name="guardrails"),
    path("guardrails/new/", guardrails.guardrail_new, name="guardrail-new"),
    path("guardrails/backtest/", guardrails.guardrail_backtest, name="guardrail-backtest"),
    path("guardrails/scope/", guardrails.guardrail_scope, name="guardrail-scope"),
    path("guardrails/<int:pk>/", guardrails.guardrail_detail, name="guardrail"),
    path("guardrails/<int:pk>/edit/", guardrails.guardrail_edit, name="guardrail-edit"),
    path("guardrails/<int:pk>/deactivate/", guardrails.guardrail_deactivate, name="guardrail-deactivate"),
    path("policy/export/", guardrails.policy_export, name="policy-export"),
    path("policy/import/", guardrails.policy_import, name="policy-import"),
    path("objectives/", objectives.objectives, name="objectives"),
    path("objectives/set/", objectives.objective_set, name="objective-set"),
    path("objectives/<int:pk>/restore/", objectives.objective_restore, name="objective-restore"),
]
