from django.urls import path

from decisions.views import (
    audiences,
    autoapproval,
    campaign,
    deals,
    experiments,
    health,
    history,
    imports,
    mix,
    pacing,
    pages,
    proposal,
    queue,
    reports,
    review,
    runs,
    transactions,
    workflows,
)

app_name = "decisions"
urlpatterns = [
    # --- review queue (decisions/views/queue.py, proposal.py, review.py) ---
    path("", queue.queue, name="queue"),
    path("queue/waiting/", queue.queue_waiting, name="queue-waiting"),
    path("proposals/<int:pk>/", proposal.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/approve/", review.proposal_approve, name="proposal-approve"),
    path("proposals/<int:pk>/edit/", review.proposal_edit, name="proposal-edit"),
    path("proposals/<int:pk>/check/", review.proposal_check, name="proposal-check"),
    path("proposals/<int:pk>/reject/", review.proposal_reject, name="proposal-reject"),
    path("proposals/<int:pk>/rollback/", review.proposal_rollback, name="proposal-rollback"),
    path("proposals/bulk-approve/", review.bulk_approve, name="bulk-approve"),
    path("proposals/bulk-approve/<int:pk>/undo/", review.bulk_undo, name="bulk-undo"),
    path("applications/<int:pk>/retry/", review.application_retry, name="application-retry"),
    # --- end review queue ---
    path("history/", history.history, name="history"),
    path("history/export.csv", history.history_csv, name="history-csv"),
    path("reports/", reports.report_page, name="reports"),
    path("reports/export.csv", reports.report_csv, name="report-csv"),
    path("reports/subscription/", reports.report_subscription, name="report-subscription"),
    path("reports/unsubscribe/<str:token>/", reports.report_unsubscribe, name="report-unsubscribe"),
    path("data/", pages.data, name="data"),
    path("data/rows/", health.data_rows, name="data-rows"),
    path("data/campaigns/<int:pk>/archive/", pages.campaign_archive, name="campaign-archive"),
    path("data/campaigns/<int:pk>/restore/", pages.campaign_restore, name="campaign-restore"),
    # A campaign's changes over its spend and objective (decisions/views/campaign.py); ids may hold any character.
    path("campaigns/<path:external_id>/", campaign.campaign_detail, name="campaign"),
    path("auto-approval/", autoapproval.auto_approval, name="auto-approval"),
    path("auto-approval/update/", autoapproval.auto_approval_update, name="auto-approval-update"),
    path("auto-approval/stop/", autoapproval.auto_approval_stop, name="auto-approval-stop"),
    path("pacing/", pacing.pacing_page, name="pacing"),
    path("mix/", mix.mix_page, name="mix"),
    path("data/totals/import/", mix.totals_import, name="totals-import"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/generate/", runs.run_generate, name="run-generate"),
    path("runs/<int:pk>/", runs.run_detail, name="run"),
    # --- data import (decisions/views/imports.py) ---
    path("data/import/", imports.import_form, name="import"),
    path("data/imports/<int:pk>/", imports.import_run, name="import-run"),
    # --- end data import ---
    # --- customer transactions (decisions/views/transactions.py) ---
    path("data/transactions/import/", transactions.transactions_import, name="transactions-import"),
    path("data/transactions/imports/<int:pk>/", transactions.transaction_import_run, name="transaction-import-run"),
    # --- end customer transactions ---
    # --- experiments (decisions/views/experiments.py) ---
    path("experiments/", experiments.experiment_list, name="experiments"),
    path("experiments/import/", experiments.experiment_import_upload, name="experiment-import"),
    path("experiments/imports/<int:pk>/", experiments.experiment_import_run, name="experiment-import-run"),
    path("experiments/<int:pk>/", experiments.experiment_detail, name="experiment"),
    path("experiments/actions/<int:pk>/", experiments.experiment_action_update, name="experiment-action"),
    path("experiments/<int:pk>/analyse/", experiments.experiment_reanalyse, name="experiment-reanalyse"),
    # An applied audience action's customer list (decisions/views/audiences.py).
    path("audiences/<int:pk>/customers.csv", audiences.audience_list_csv, name="audience-list-csv"),
    # --- end experiments ---
    # --- CRM deals (decisions/views/deals.py) ---
    path("data/deals/", deals.deals, name="deals"),
    path("data/deals/import/", deals.deals_import, name="deals-import"),
    path("data/deals/imports/<int:pk>/", deals.deal_import_run, name="deal-import-run"),
    path("data/deals/aliases/", deals.alias_add, name="alias-add"),
    path("data/deals/aliases/<int:pk>/remove/", deals.alias_remove, name="alias-remove"),
    # --- end CRM deals ---
    # --- workflow audit (decisions/views/workflows.py) ---
    path("workflows/", workflows.workflows, name="workflows"),
    path("workflows/import/", workflows.workflows_import, name="workflows-import"),
    path("workflows/audit/", workflows.workflows_audit, name="workflows-audit"),
    path("workflows/threshold/", workflows.workflows_threshold, name="workflows-threshold"),
    # --- end workflow audit ---
]
