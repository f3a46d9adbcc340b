"""Requests sent at the same instant from several threads, each with its own connection."""

import threading
from dataclasses import dataclass

from django.db import connection
from django.test import Client


@dataclass(frozen=True)
class Call:
    secret: str
    url: str
    body: dict | str  # a dict is sent as JSON; a str as it is (raw JSON text)
    key: str | None = None


def post_together(calls: list[Call]) -> list:
    """POST each call from its own thread and `Client`, all released at once; the responses, in
    the order of `calls`."""
    barrier = threading.Barrier(len(calls))
    responses: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Call) -> None:
        try:
            client = Client()
            headers = {"HTTP_AUTHORIZATION": f"Bearer {call.secret}"}
            if call.key is not None:
                headers["HTTP_IDEMPOTENCY_KEY"] = call.key
            connection.ensure_connection()  # connect first, so that the requests overlap
            barrier.wait(timeout=10)
            responses[index] = client.post(
                call.url, call.body, content_type="application/json", **headers
            )
        except BaseException as error:  # handed to the main thread, asserted there
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert all(response is not None for response in responses)
    return responses
