from django.urls import path

from objectives import views

app_name = "objectives"
urlpatterns = [
    path("guardrails/", views.guardrails, name="guardrails"),
    path("guardrails/new/", views.guardrail_new, name="guardrail-new"),
    path("guardrails/backtest/", views.guardrail_backtest, name="guardrail-backtest"),
    path("guardrails/<int:pk>/", views.guardrail_detail, name="guardrail"),
    path("guardrails/<int:pk>/edit/", views.guardrail_edit, name="guardrail-edit"),
    path("guardrails/<int:pk>/deactivate/", views.guardrail_deactivate, name="guardrail-deactivate"),
    path("policy/export/", views.policy_export, name="policy-export"),
    path("policy/import/", views.policy_import, name="policy-import"),
    path("objectives/", views.objectives, name="objectives"),
    path("objectives/set/", views.objective_set, name="objective-set"),
]
