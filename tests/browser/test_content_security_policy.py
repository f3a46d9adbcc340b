"""The Content Security Policy seen by a real browser: the staff pages and the API docs work under
it, and nothing they need is blocked (Chromium reports each blocked resource on the console)."""

import pytest

from tests.factories import UserFactory

# The live server reads the dashboard and the past-due list from the replica (a mirror in tests).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases={"default", "replica"}),
]


def violations(page, path: str) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(path, wait_until="networkidle")
    return [text for text in messages if "Content Security Policy" in text]


def sign_in(page) -> None:
    UserFactory(username="csp-admin", is_superuser=True, password="a-long-password-123")
    page.goto("/admin/login/?next=/backoffice/")
    page.fill("#id_username", "csp-admin")
    page.fill("#id_password", "a-long-password-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/backoffice/")


@pytest.mark.parametrize("path", ["/backoffice/", "/backoffice/past-due/", "/admin/"])
def test_staff_pages_need_nothing_the_policy_blocks(page, path):
    sign_in(page)

    assert violations(page, path) == []
    assert page.locator("body").inner_text().strip() != ""


def test_swagger_ui_renders_every_operation_under_the_policy(page):
    assert violations(page, "/api/docs/") == []
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 9  # both DocuSign mounts and Legend's three


def test_redoc_renders_under_the_policy(page):
    blocked = violations(page, "/api/redoc/")

    page.wait_for_selector("h1")
    assert "Billing back office API" in page.locator("h1").first.inner_text()
    # ReDoc's own footer links its logo from a CDN: refusing it is the policy doing its job.
    assert [text for text in blocked if "cdn.redoc.ly" not in text] == []
