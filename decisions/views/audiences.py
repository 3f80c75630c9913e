"""An applied audience action's customer list: the CSV a marketer uploads to the e-mail or ad platform.

Customer ids are personal data: marketers and guardrail admins may download a list, viewers may not (403). A
withdrawn list (its proposal rolled back, or another action given to the audience since) is not served as a
file: its customers must not get the action any more, so the answer is a page saying so (410 Gone).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from decisions import access as roles
from decisions import csvsafe
from decisions.experiments import lists as list_words
from decisions.models import AudienceList

COLUMNS = ["customer_id", "action", "action_name"]
WITHDRAWN_TEMPLATE = "decisions/audience_list_withdrawn.html"


class _Echo:
    """csv.writer writes into this and gets the line back, so each row streams as soon as it is made."""

    def write(self, value: str) -> str:
        return value


def csv_lines(audience_list: AudienceList, action_name: str) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for customer_id in audience_list.customer_ids:
        yield writer.writerow(csvsafe.safe_row([customer_id, audience_list.action, action_name]))


def filename(audience_list: AudienceList, action_name: str) -> str:
    """e.g. "spring-e-mail-test-mens-e-mail-list-12.csv": the test and the action, and which list."""
    stem = slugify(f"{audience_list.experiment.name} {action_name}") or "audience"
    return f"{stem}-list-{audience_list.pk}.csv"


@require_GET
@roles.role_required(roles.MARKETER, roles.GUARDRAIL_ADMIN)
def audience_list_csv(request: HttpRequest, pk: int) -> HttpResponse:
    audience_list = get_object_or_404(AudienceList.objects.select_related("experiment", "proposal"), pk=pk)
    shown = list_words.list_view(audience_list)
    if not audience_list.live:
        return render(request, WITHDRAWN_TEMPLATE, {"list": shown}, status=410)
    response = StreamingHttpResponse(
        csv_lines(audience_list, shown.action_name), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename(audience_list, shown.action_name)}"'
    return response
