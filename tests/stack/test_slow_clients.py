"""Twenty slow clients hold connections to nginx for ~8 s, sending their headers or their body a
byte at a time; meanwhile every probe through nginx is answered within a second. nginx holds the
slow connections itself (request buffering), so no app worker waits for them, and gunicorn kills
no worker for a timeout."""

import socket
import ssl
import threading
import time

SLOW_CLIENTS = 20
HOLD = 8.0  # seconds each slow client keeps sending (nginx drops a stalled one after 10 s)
PROBE_LIMIT = 1.0  # seconds


def slow_client(stack, stop: threading.Event, body: bool, errors: list) -> None:
    context = ssl.create_default_context(cafile=stack.ca)
    try:
        raw = socket.create_connection(("127.0.0.1", stack.ports["https"]), timeout=15)
        with raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
            if body:  # headers at once, then a body that trickles
                tls.sendall(
                    b"POST /POS/BillingPayments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                )
                trickle = b"{" + b" " * 999
            else:  # the request line and headers a byte at a time
                trickle = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"x" * 900
            for byte in trickle:
                if stop.wait(0.25):
                    return
                tls.sendall(bytes([byte]))
    except OSError as error:  # nginx closing a client it gave up on is fine after HOLD
        if not stop.is_set():
            errors.append(error)


def test_slow_clients_do_not_stop_other_clients(stack, https):
    (client,) = stack.seed(what="clients", count=1, each=1)
    billings = (
        f"/POS/Billings?ContactId={client['contact']}",
        {"Authorization": f"Bearer {client['secret']}"},
    )
    stop = threading.Event()
    errors: list = []
    threads = [
        threading.Thread(target=slow_client, args=(stack, stop, index % 2 == 0, errors))
        for index in range(SLOW_CLIENTS)
    ]
    for thread in threads:
        thread.start()
    probes = []
    try:
        time.sleep(1.0)  # every slow client connected and trickling
        deadline = time.monotonic() + HOLD - 1.5
        while time.monotonic() < deadline:
            for path, headers in (("/healthz", {}), billings):  # no database; the database
                started = time.monotonic()
                response = https.get(stack.url + path, headers=headers, timeout=5)
                probes.append((path[:13], response.status_code, time.monotonic() - started))
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not errors, errors
    assert len(probes) >= 20, probes
    assert {(path, status) for path, status, _ in probes} == {
        ("/healthz", 200),
        ("/POS/Billings", 200),
    }
    slowest = max(seconds for _, _, seconds in probes)
    assert slowest < PROBE_LIMIT, probes
    for port in stack.ports["apps"]:
        assert "WORKER TIMEOUT" not in stack.log(f"app-{port}.log")
