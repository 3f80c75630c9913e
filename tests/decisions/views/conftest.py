"""Signed-in reviewers for the review endpoint tests (tests/decisions/views/test_approve.py and its siblings)."""

import pytest

from tests.factories import guardrail_admin, marketer


@pytest.fixture
def reviewer(client):
    """A marketer, signed in: may decide, but not over a block-level guardrail."""
    user = marketer(first_name="Maya", last_name="Lind")
    client.force_login(user)
    return user


@pytest.fixture
def admin_reviewer(client):
    """A guardrail admin, signed in: may approve over a block-level guardrail, with a written reason."""
    user = guardrail_admin(first_name="Gus", last_name="Admin")
    client.force_login(user)
    return user
