"""A small website of our own, served from a thread on 127.0.0.1 for the website-sync
tests: its pages can change between syncs, and it can redirect, answer slowly, send big
bodies, and answer conditional GETs with 304."""

import contextlib
import hashlib
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str = ""  # of a redirect
    # Those it sends and honours: a 304 to a matching If-None-Match, or without an ETag,
    # to a matching If-Modified-Since (compared as text: the date sent is the one received).
    validators: tuple[str, ...] = ("ETag", "Last-Modified")
    slow: bool = False  # holds the answer until the test ends
    declared_length: bool = True  # sends Content-Length (else the body ends as it closes)
    modified: float = 1_700_000_000.0

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class Site:
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[tuple[str, dict]] = field(default_factory=list)  # path, headers
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def html(self, path: str, title: str, text: str, *, links: tuple[str, ...] = ()) -> None:
        """A page with the site's menu and footer around its main content."""
        self.pages[path] = Page(body=shop_page(title, text, links=links).encode())

    def served(self, path: str) -> list[dict]:
        """The headers of each request for `path`, in order."""
        return [headers for requested, headers in self.requests if requested == path]


def shop_page(title: str, text: str, *, links: tuple[str, ...] = ()) -> str:
    menu = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    return (
        f"<!doctype html><html><head><title>{title} | Spoke &amp; Chain</title></head><body>"
        f'<header><nav><ul><li><a href="/">Home</a></li>{menu}</ul></nav></header>'
        f"<main><article><h1>{title}</h1>{text}</article></main>"
        "<footer><p>Spoke &amp; Chain Bicycles, 12 Mill Lane. Open Tuesday to Sunday.</p>"
        "</footer></body></html>"
    )


def sitemap(*paths: str, base: str) -> bytes:
    """A sitemap listing `paths` on the site at `base`."""
    urls = "".join(f"<url><loc>{base}{path}</loc></url>" for path in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: "_SiteServer"

    def do_GET(self) -> None:
        site = self.server.site
        path = self.path.split("?")[0]
        site.requests.append((path, dict(self.headers)))
        page = site.pages.get(path)
        if page is None:
            self._answer(404, b"<h1>Not found</h1>", "text/html")
            return
        if page.slow:
            site.release.wait()
            return
        if page.location:
            self.send_response(page.status)
            self.send_header("Location", page.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {}
        if "ETag" in page.validators:
            headers["ETag"] = page.etag
        if "Last-Modified" in page.validators:
            headers["Last-Modified"] = formatdate(page.modified, usegmt=True)
        if "ETag" in headers:
            unchanged = self.headers.get("If-None-Match") == headers["ETag"]
        else:
            unchanged = self.headers.get("If-Modified-Since", "") == headers.get("Last-Modified")
        if unchanged:
            self.send_response(304)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        self._answer(page.status, page.body, page.content_type, headers, page.declared_length)

    def _answer(
        self, status: int, body: bytes, content_type: str, headers=None, declared_length=True
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if declared_length:
            self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # stopped reading
            self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # quiet
        pass


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site


class SiteServer:
    """`with SiteServer(site) as url:` serves `site` at `url` until the block ends."""

    def __init__(self, site: Site):
        self.site = site
        self.server = _SiteServer(site)
        site.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.site.url

    def __exit__(self, *exc_info) -> None:
        self.site.release.set()
        self.server.shutdown()
        self.server.server_close()
