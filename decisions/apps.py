from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "decisions"
    verbose_name = "Decisions"

    def ready(self) -> None:
        # objectives may not import decisions, so it announces policy changes and decisions listens.
        from objectives.signals import policy_changed

        policy_changed.connect(_follow_policy_change, dispatch_uid="decisions.follow_policy_change")
        # …and tells it which campaigns exist, so a policy file's scopes are checked on the command line too.
        from objectives import campaign_scopes

        campaign_scopes.register(_known_campaigns)


def _follow_policy_change(sender, **kwargs) -> None:
    # Imported on first use: the follow-ups pull in the engine (numpy, scikit-learn), which every start-up
    # and every management command would otherwise pay for (over a second).
    from decisions.policy_changes import follow_policy_change

    follow_policy_change(sender, **kwargs)


def _known_campaigns():
    from decisions.review.selectors import known_campaigns

    return known_campaigns()
