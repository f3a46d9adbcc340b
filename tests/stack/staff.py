"""A staff user of the stack, signed in through nginx like a browser (the admin login form)."""

import re
import uuid

import requests


def signed_in(stack) -> requests.Session:
    username, password = f"staff-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    stack.seed(what="staff", user=username, password=password)
    session = requests.Session()
    session.verify = stack.ca
    session.trust_env = False  # else REQUESTS_CA_BUNDLE, if set, would replace `verify`
    login = f"{stack.url}/admin/login/"
    form = session.get(login, timeout=10)
    assert form.status_code == 200, form.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        login,
        data={
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": password,
            "next": "/backoffice/",
        },
        headers={"Referer": login},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:1000]
    return session
