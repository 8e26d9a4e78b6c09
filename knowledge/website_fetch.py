"""Fetching a company's website politely and safely, for `knowledge.website_sync`.

httpx does the HTTP; its connections go through an address guard that resolves each
host and refuses private, loopback, link-local and reserved addresses (unless the operator
sets `KEEL_SYNC_ALLOW_PRIVATE=1`), at the moment it connects: every request and every
redirect is checked, and a name that resolves differently the second time cannot slip
through. robots.txt is read with the standard library's `urllib.robotparser`. Redirects
are followed by hand, within the site only, and bodies are streamed and cut at a size cap.
Nothing here touches the database.
"""

import contextlib
import functools
import ipaddress
import socket
import time
import urllib.robotparser
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
import tldextract
from django.conf import settings
from django.template.defaultfilters import filesizeformat

USER_AGENT = "KeelBot/1.0 (+support assistant)"
ROBOTS_AGENT = "KeelBot"  # the name robots.txt rules are matched against
MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
ROBOTS_MAX_BYTES = 512 * 1024
# A robots.txt Crawl-delay is honoured up to this many seconds between requests.
MAX_CRAWL_DELAY_SECONDS = 30.0


class FetchRefused(Exception):
    """The address or its answer cannot be used; the message says why, for the admin."""


@dataclass(frozen=True)
class FetchedPage:
    url: str  # after redirects
    status: int
    content_type: str  # without parameters, lower case
    body: bytes
    etag: str = ""
    last_modified: str = ""
    location: str = ""  # of a redirect


def address_problem(host: str, *, allow_private: bool) -> str:
    """Why Keel may not connect to `host` ("" when it may): every address it resolves to
    must be a public one."""
    try:
        return _addresses_problem(host, _addresses(host, port=None), allow_private=allow_private)
    except FetchRefused as refused:
        return str(refused)


def _addresses(host: str, *, port: int | None) -> list[str]:
    try:
        return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (socket.gaierror, UnicodeError) as error:
        raise FetchRefused(f"The name {host} could not be resolved.") from error


def _addresses_problem(host: str, addresses: list[str], *, allow_private: bool) -> str:
    if allow_private:
        return ""
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            where = f"{ip} is" if host == str(ip) else f"{host} resolves to {ip},"
            return (
                f"{where} a private, loopback or reserved address: Keel only fetches public "
                "websites (an operator can allow others with KEEL_SYNC_ALLOW_PRIVATE=1)."
            )
    return ""


class _AddressGuard(httpcore.SyncBackend):
    """Connects only to addresses `address_problem` accepts, and to the very address it
    checked: the name is resolved once, so it cannot answer differently in between."""

    def __init__(self, *, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = _addresses(host, port=port)
        problem = _addresses_problem(host, addresses, allow_private=self.allow_private)
        if problem:
            raise FetchRefused(problem)
        for address in addresses[:-1]:  # each in turn, as the operating system would
            with contextlib.suppress(httpcore.ConnectError, httpcore.ConnectTimeout):
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
        return super().connect_tcp(addresses[-1], port, timeout, local_address, socket_options)


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose connections pass the address guard.
    No proxy from the environment: a proxy would connect on Keel's behalf, unchecked."""

    def __init__(self, *, allow_private: bool):
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=_AddressGuard(allow_private=allow_private),
        )


def registrable_domain(url: str) -> str:
    """`shop.example.com` → `example.com` (from tldextract's bundled suffix list, never
    fetched); an IP address or a single-label host is its own."""
    host = (urlsplit(url).hostname or "").lower()
    extracted = _suffixes()(host)
    return extracted.top_domain_under_public_suffix or host


@functools.cache
def _suffixes() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=())  # the bundled list: never fetched


def url_problem(url: str) -> str:
    """Why `url` cannot be a website source's address ("" when it can)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Give a web address starting with http:// or https://."
    if parts.username or parts.password:
        return "Leave the user name and password out of the address."
    return ""


def same_site(url: str, *, site: str) -> bool:
    """On the site: http(s), and the same registrable domain (`example.com` and
    `www.example.com` are one site; `example.org` is another)."""
    return urlsplit(url).scheme in ("http", "https") and registrable_domain(
        url
    ) == registrable_domain(site)


class SiteFetcher:
    """One site's pages, one request at a time, at most one per `delay` seconds (or the
    site's robots.txt Crawl-delay), each within the timeout and size cap."""

    def __init__(self, *, site: str):
        self.site = site
        self.delay = settings.KEEL_SYNC_DELAY_SECONDS
        self.max_bytes = settings.KEEL_SYNC_MAX_PAGE_BYTES
        self.timeout = settings.KEEL_SYNC_TIMEOUT_SECONDS
        self.client = httpx.Client(
            transport=_GuardedTransport(allow_private=settings.KEEL_SYNC_ALLOW_PRIVATE),
            headers={"User-Agent": USER_AGENT},
            timeout=self.timeout,
            follow_redirects=False,
            trust_env=False,  # no proxy, .netrc credentials or certificates from the environment
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._last_request = float("-inf")

    def __enter__(self) -> "SiteFetcher":
        return self

    def __exit__(self, *exc_info) -> None:
        self.client.close()

    def allowed(self, url: str) -> bool:
        """Whether the site's robots.txt lets Keel fetch `url`."""
        return self._robots_of(url).can_fetch(ROBOTS_AGENT, url)

    def get(self, url: str, *, etag: str = "", last_modified: str = "") -> FetchedPage:
        """The page at `url`, following redirects within the site; a 304 when the
        validators still hold. Raises `FetchRefused` with the reason it cannot be had."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._get(url, headers=headers, max_bytes=self.max_bytes, obey_robots=True)

    def _get(self, url: str, *, headers: dict, max_bytes: int, obey_robots: bool) -> FetchedPage:
        visited = [url]
        while True:
            page = self._request(visited[-1], headers=headers, max_bytes=max_bytes)
            if page.status not in REDIRECT_STATUSES:
                return page
            target = urljoin(visited[-1], page.location)
            if not same_site(target, site=self.site):
                raise FetchRefused(f"It redirects to {target}, outside the site.")
            if target in visited:
                raise FetchRefused(f"Redirect loop: {' → '.join([*visited, target])}.")
            if len(visited) > MAX_REDIRECTS:
                raise FetchRefused(f"More than {MAX_REDIRECTS} redirects from {url}.")
            if obey_robots and not self.allowed(target):
                raise FetchRefused(f"It redirects to {target}, which robots.txt keeps Keel from.")
            visited.append(target)

    def _request(self, url: str, *, headers: dict, max_bytes: int) -> FetchedPage:
        self._wait_turn(url)
        deadline = time.monotonic() + self.timeout
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("Location", "")
                    if not location:
                        raise FetchRefused(f"A redirect from {url} without a Location.")
                    return FetchedPage(
                        url=url,
                        status=response.status_code,
                        content_type="",
                        body=b"",
                        location=location,
                    )
                body = self._body(response, max_bytes=max_bytes, deadline=deadline)
                return FetchedPage(
                    url=str(response.url),
                    status=response.status_code,
                    content_type=response.headers.get("Content-Type", "")
                    .split(";")[0]
                    .strip()
                    .lower(),
                    body=body,
                    etag=response.headers.get("ETag", ""),
                    last_modified=response.headers.get("Last-Modified", ""),
                )
        except httpx.TimeoutException as error:
            raise FetchRefused(f"{url} did not answer within {self.timeout:g} seconds.") from error
        except httpx.HTTPError as error:
            raise FetchRefused(f"{url} could not be fetched ({error}).") from error
        finally:
            self._last_request = time.monotonic()

    def _body(self, response: httpx.Response, *, max_bytes: int, deadline: float) -> bytes:
        """Read until the size cap, and no longer than the timeout in all (a server that
        trickles bytes never trips the timeout between reads)."""
        too_big = f"{response.url} is more than {filesizeformat(max_bytes)}, the limit for a page."
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchRefused(too_big)
        received = bytearray()
        for piece in response.iter_bytes():
            received += piece
            if len(received) > max_bytes:
                raise FetchRefused(too_big)
            if time.monotonic() > deadline:
                raise FetchRefused(
                    f"{response.url} took more than {self.timeout:g} seconds to send."
                )
        return bytes(received)

    def _wait_turn(self, url: str) -> None:
        """Rate limit: the site's crawl delay (or Keel's) since the last request ended."""
        delay = self.delay
        origin = _origin(url)
        if origin in self._robots:
            crawl_delay = self._robots[origin].crawl_delay(ROBOTS_AGENT)
            if crawl_delay:
                delay = max(delay, min(float(crawl_delay), MAX_CRAWL_DELAY_SECONDS))
        wait = self._last_request + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def _robots_of(self, url: str) -> urllib.robotparser.RobotFileParser:
        """The rules of the origin of `url`, read once. No robots.txt (4xx): everything is
        allowed. One that cannot be read (5xx, timeout) forbids everything (RFC 9309): it
        raises `FetchRefused`, so a sync fetches nothing and changes nothing, rather than
        archiving every page as if the site had dropped them."""
        origin = _origin(url)
        if origin not in self._robots:
            robots = urllib.robotparser.RobotFileParser()
            try:
                page = self._get(
                    f"{origin}/robots.txt",
                    headers={},
                    max_bytes=ROBOTS_MAX_BYTES,
                    obey_robots=False,
                )
            except FetchRefused as refused:
                raise FetchRefused(f"The site's robots.txt could not be read: {refused}") from None
            if page.status == 200:
                robots.parse(page.body.decode("utf-8", errors="replace").splitlines())
            elif 400 <= page.status < 500:
                robots.allow_all = True
            else:
                raise FetchRefused(
                    f"The site's robots.txt answered {page.status}: Keel fetches nothing from "
                    "a site until it can read its robots.txt."
                )
            self._robots[origin] = robots
        return self._robots[origin]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
