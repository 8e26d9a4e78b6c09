"""Which web pages may open a workspace's chat.

The chat panel is an iframe served by Keel, so its socket's Origin is Keel's own. The
page around it (the company's site) is held to the workspace's allowed origins twice:
browsers refuse to frame the panel elsewhere (CSP `frame-ancestors`), and the panel
reports its embedding page when it says hello, checked here. A page that opens the socket
directly (no iframe) must itself be an allowed origin.
"""

from urllib.parse import urlsplit

from django.conf import settings

from assistant.models import Workspace


def origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ""
    default_port = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port
    except ValueError:
        return ""
    port_suffix = f":{port}" if port and port != default_port else ""
    return f"{parts.scheme}://{parts.hostname}{port_suffix}"


def keel_origin(*, host: str, secure: bool) -> str:
    return origin_of(f"{'https' if secure else 'http'}://{host}")


def socket_secure(*, scope: dict) -> bool:
    """Did the browser open the socket over TLS? Behind a TLS proxy that Keel trusts
    (SECURE_PROXY_SSL_HEADER, as for pages), the proxy says so: the socket daphne sees is
    plain, and its scope has no scheme of its own."""
    if scope.get("scheme") == "wss":
        return True
    if not settings.SECURE_PROXY_SSL_HEADER:
        return False
    header, value = settings.SECURE_PROXY_SSL_HEADER
    name = header.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
    return dict(scope["headers"]).get(name, b"").decode("latin-1") == value


def embedding_allowed(*, workspace: Workspace, origin: str, keel: str) -> bool:
    """Keel's own pages (the demo site, the admin preview) may always embed the chat."""
    allowed = {origin_of(item) for item in workspace.allowed_origins} | {keel}
    return bool(origin) and origin_of(origin) in allowed
