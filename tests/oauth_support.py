"""What the OAuth tests share: RSA key pairs, signed assertions, and the app served over TLS.

`tls_live_server` is pytest-django's live server with its socket wrapped in TLS, under a
certificate for localhost and 127.0.0.1 from a throwaway CA made by `trustme` (the DocuSign SDK
speaks only https:// to the OAuth host); `ca_path` is that CA's certificate for clients to trust.
"""

import ssl
import time
from dataclasses import dataclass
from functools import cache

import jwt
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test.testcases import LiveServerThread
from pytest_django.live_server_helper import LiveServer

from oauth.services import integration_create


@cache
def key_pair(index: int = 0) -> tuple[bytes, str]:
    """(private key PEM bytes, public key PEM text): made once per test process per index."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def assertion(claims: dict, *, key: int = 0, **overrides) -> str:
    now = int(time.time())
    body = {"iat": now, "exp": now + 3600, "scope": "signature impersonation", **claims}
    body.update(overrides)
    body = {name: value for name, value in body.items() if value is not None}
    return jwt.encode(body, key_pair(key)[0], algorithm="RS256")


def make_integration(accounts, *, consent: bool = True, role: str = "admin", **extra):
    return integration_create(
        name=extra.pop("name", "Acme tills"),
        public_keys=[key_pair(0)[1]],
        grants=[(account, role) for account in accounts],
        user_name="Ada Lovelace",
        user_email="ada@example.com",
        consent=consent,
        **extra,
    )


class _TLSLiveServerThread(LiveServerThread):
    ssl_context: ssl.SSLContext

    def _create_server(self, connections_override=None):
        server = super()._create_server(connections_override=connections_override)
        server.socket = self.ssl_context.wrap_socket(server.socket, server_side=True)
        server.base_environ["HTTPS"] = "on"  # wsgi.url_scheme https: request.is_secure()
        return server


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_path(tls_ca, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls_live_server(tls_ca, settings):
    """The app over HTTPS on localhost (a fresh server per test)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    server = LiveServer("localhost", start=False)
    thread = _TLSLiveServerThread(
        server.thread.host,
        static_handler=server.thread.static_handler,
        connections_override=server.thread.connections_override,
    )
    thread.ssl_context = context
    thread.daemon = True
    server.thread = thread
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "127.0.0.1"]
    server.start()
    yield TLSServer(host_name=f"localhost:{thread.port}")
    server.stop()


@dataclass(frozen=True)
class TLSServer:
    host_name: str  # what the SDK calls `oauth_host_name`: host and port, no scheme

    @property
    def url(self) -> str:
        return f"https://{self.host_name}"
