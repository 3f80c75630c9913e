"""Audience lists in words, for the proposal page, the experiment page and the download: which action, to which
audience, how many customers, published or withdrawn (decisions/audiences.py writes them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse

from decisions.audiences import segment_words
from decisions.models import AudienceList, Experiment, ExperimentAction, Proposal


@dataclass(frozen=True)
class ListView:
    pk: int
    experiment: str
    experiment_pk: int
    action: str
    action_name: str
    audience: str
    customers: int
    without_id: int
    published_at: dt.datetime
    withdrawn_at: dt.datetime | None
    proposal_pk: int | None
    download_url: str

    @property
    def live(self) -> bool:
        return self.withdrawn_at is None

    @property
    def audience_in_sentence(self) -> str:
        """ "Age 30 or more" as it reads after "to": "age 30 or more" (values keep their capitals)."""
        return in_sentence(self.audience)


def in_sentence(words: str) -> str:
    return "everyone" if words == "Everyone" else words[:1].lower() + words[1:]


def _names(experiment_ids) -> dict[tuple[int, str], str]:
    rows = ExperimentAction.objects.filter(experiment_id__in=set(experiment_ids))
    return {(pk, arm): name for pk, arm, name in rows.values_list("experiment_id", "arm", "name")}


def list_view(audience_list: AudienceList, names: dict | None = None) -> ListView:
    if names is None:
        names = _names([audience_list.experiment_id])
    return ListView(
        pk=audience_list.pk,
        experiment=audience_list.experiment.name,
        experiment_pk=audience_list.experiment_id,
        action=audience_list.action,
        action_name=names.get((audience_list.experiment_id, audience_list.action), audience_list.action),
        audience=segment_words(audience_list.segment),
        customers=len(audience_list.customer_ids),
        without_id=audience_list.without_id,
        published_at=audience_list.published_at,
        withdrawn_at=audience_list.withdrawn_at,
        proposal_pk=audience_list.proposal_id,
        download_url=reverse("decisions:audience-list-csv", args=[audience_list.pk]),
    )


def _views(rows) -> list[ListView]:
    rows = list(rows)
    names = _names(row.experiment_id for row in rows)
    return [list_view(row, names) for row in rows]


def lists_of_proposal(proposal: Proposal) -> list[ListView]:
    """The lists the proposal published, newest first (a rollback's re-published list belongs to its own)."""
    return _views(AudienceList.objects.filter(proposal=proposal).select_related("experiment"))


def lists_of_experiment(experiment: Experiment) -> list[ListView]:
    return _views(AudienceList.objects.filter(experiment=experiment).select_related("experiment"))
