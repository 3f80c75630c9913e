"""Which campaign a deal's campaign reference means: the campaign's id, then its exact name, then an alias a
guardrail admin added; and, for a reference that matches none, the campaigns it most likely means."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from decisions.data.deals import reference_key
from decisions.models import Campaign, CampaignAlias

BY_ID, BY_NAME, BY_ALIAS = "id", "name", "alias"
MAX_SUGGESTIONS = 3
CLOSE_ENOUGH = 0.6  # difflib's ratio below which a name is not worth suggesting


@dataclass(frozen=True)
class Match:
    campaign_id: int | None
    matched_by: str  # BY_ID, BY_NAME, BY_ALIAS; "" when unmatched


UNMATCHED = Match(None, "")


class Resolver:
    """Campaigns, names and aliases read once; each distinct reference resolved once per import."""

    def __init__(self):
        campaigns = list(Campaign.objects.values_list("pk", "external_id", "name"))
        self.by_id = {external_id: pk for pk, external_id, _ in campaigns}
        names: dict[str, list[int]] = {}
        for pk, _, name in campaigns:
            if name:
                names.setdefault(name, []).append(pk)
        # A name two campaigns share names neither: the deal is listed as unmatched, to be aliased.
        self.by_name = {name: pks[0] for name, pks in names.items() if len(pks) == 1}
        self.by_alias = dict(CampaignAlias.objects.values_list("reference_key", "campaign_id"))
        self._seen: dict[str, Match] = {}

    def match(self, reference: str) -> Match:
        if not reference:
            return UNMATCHED
        found = self._seen.get(reference)
        if found is None:
            found = self._seen[reference] = self._resolve(reference)
        return found

    def _resolve(self, reference: str) -> Match:
        if reference in self.by_id:
            return Match(self.by_id[reference], BY_ID)
        if reference in self.by_name:
            return Match(self.by_name[reference], BY_NAME)
        alias = self.by_alias.get(reference_key(reference))
        return Match(alias, BY_ALIAS) if alias is not None else UNMATCHED


def matches_directly(reference: str) -> Campaign | None:
    """The campaign a reference already names by id or exact name (an alias for it would never be read)."""
    by_id = Campaign.objects.filter(external_id=reference).first()
    if by_id is not None:
        return by_id
    named = list(Campaign.objects.filter(name=reference)[:2])
    return named[0] if len(named) == 1 else None


def utm_form(text: str) -> str:
    """How a campaign name usually appears as a utm_campaign value: "Spring Webinar – EMEA" → spring_webinar_emea."""
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


@dataclass(frozen=True)
class Suggestion:
    campaign_id: int
    external_id: str
    name: str
    why: str  # "same utm_campaign", "close name", "close id"


def suggest(references: list[str]) -> dict[str, list[Suggestion]]:
    """For each unmatched reference, up to three campaigns it may mean: the campaign whose name, written as a
    utm_campaign value, is the reference's (what the ad data's tracking carries); then close names and ids."""
    campaigns = list(Campaign.objects.filter(archived_at__isnull=True).values_list("pk", "external_id", "name"))
    by_utm: dict[str, list[tuple]] = {}
    for campaign in campaigns:
        if campaign[2]:
            by_utm.setdefault(utm_form(campaign[2]), []).append(campaign)
    names = {campaign[2].casefold(): campaign for campaign in campaigns if campaign[2]}
    ids = {campaign[1].casefold(): campaign for campaign in campaigns}
    found = {}
    for reference in references:
        picks: dict[int, Suggestion] = {}

        def add(campaign, why: str, picks=picks) -> None:
            if campaign[0] not in picks and len(picks) < MAX_SUGGESTIONS:
                picks[campaign[0]] = Suggestion(campaign[0], campaign[1], campaign[2], why)

        for campaign in by_utm.get(utm_form(reference), []):
            add(campaign, "same utm_campaign")
        folded = reference.casefold()
        for close in difflib.get_close_matches(folded, names, n=MAX_SUGGESTIONS, cutoff=CLOSE_ENOUGH):
            add(names[close], "close name")
        for close in difflib.get_close_matches(folded, ids, n=MAX_SUGGESTIONS, cutoff=CLOSE_ENOUGH):
            add(ids[close], "close id")
        found[reference] = list(picks.values())
    return found
