"""GET audiences/<pk>/customers.csv: an applied audience action's customer list, for marketers and admins only."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from decisions import audiences
from decisions.models import AudienceList
from tests.decisions.experiments.audience_support import CONTROL, MENS, TEST, make_test
from tests.factories import guardrail_admin, marketer, viewer

pytestmark = pytest.mark.django_db

SEGMENT = {"region": ["North"]}


@pytest.fixture
def published() -> AudienceList:
    make_test(
        [
            ("N-1", MENS, 1.0, {"age": 30, "region": "North"}),
            ('=HYPERLINK("http://x")', CONTROL, 1.0, {"age": 31, "region": "North"}),
            ("N-3", CONTROL, 1.0, {"age": 32, "region": "North"}),
            ("S-1", MENS, 1.0, {"age": 33, "region": "South"}),
        ]
    )
    audiences.set_action({"experiment": TEST, "segment": SEGMENT}, MENS, now=timezone.now())
    return AudienceList.objects.get()


def url(audience_list: AudienceList) -> str:
    return reverse("decisions:audience-list-csv", args=[audience_list.pk])


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_a_marketer_downloads_the_list_with_the_action_s_name(client, published):
    client.force_login(marketer())
    response = client.get(url(published))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert f'filename="spring-e-mail-test-mens-e-mail-list-{published.pk}.csv"' in disposition
    assert rows(response) == [
        ["customer_id", "action", "action_name"],
        ["N-1", MENS, "Mens e-mail"],
        ['\'=HYPERLINK("http://x")', MENS, "Mens e-mail"],
        ["N-3", MENS, "Mens e-mail"],
    ]


def test_a_guardrail_admin_may_download_too(client, published):
    client.force_login(guardrail_admin())
    assert client.get(url(published)).status_code == 200


def test_a_viewer_may_not_read_customer_ids(client, published):
    client.force_login(viewer())
    response = client.get(url(published))
    assert response.status_code == 403
    assert b"N-1" not in response.content


def test_signed_out_is_sent_to_sign_in(client, published):
    response = client.get(url(published))
    assert response.status_code == 302 and "login" in response["Location"]


def test_post_is_not_allowed(client, published):
    client.force_login(marketer())
    assert client.post(url(published)).status_code == 405


def test_a_withdrawn_list_says_so_instead_of_serving_its_customers(client, published):
    audiences.set_action({"experiment": TEST, "segment": SEGMENT}, CONTROL, now=timezone.now())
    client.force_login(marketer())
    response = client.get(url(published))
    body = response.content.decode()
    assert response.status_code == 410
    assert "This list was withdrawn" in body and "must not get Mens e-mail" in body
    assert "N-1" not in body


def test_an_unknown_list_is_404(client, published):
    client.force_login(marketer())
    assert client.get(reverse("decisions:audience-list-csv", args=[published.pk + 99])).status_code == 404


def test_the_experiment_page_lists_what_was_sent_with_its_download_link(client, published):
    client.force_login(marketer())
    body = client.get(reverse("decisions:experiment", args=[published.experiment_id])).content.decode()
    assert "Lists sent" in body and "Region is North" in body and url(published) in body
    client.force_login(viewer())
    body = client.get(reverse("decisions:experiment", args=[published.experiment_id])).content.decode()
    assert "Lists sent" in body and url(published) not in body
