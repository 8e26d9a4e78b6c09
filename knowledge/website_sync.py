"""Syncing a website source: a company's own website brought into a knowledge base, each
page a document whose URL is its citation link.

A sync fetches first (`knowledge.website_fetch`, no transaction open) and writes each page
in a short transaction of its own, through the upload path (`knowledge.uploads`): the
worker then indexes it like an uploaded file, its main content extracted and its hidden
text quarantined the same way. Unchanged pages are skipped (a 304 to a conditional GET,
or the same extracted text); pages that are gone are archived, never deleted.
"""

import fnmatch
import gzip
import hashlib
import io
import re
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from enum import StrEnum
from urllib.parse import urldefrag, urlsplit

import lxml.etree
import lxml.html
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from knowledge.ingest import Action, document_archive
from knowledge.models import Document, WebsitePage, WebsiteSource
from knowledge.parsing import UnreadableDocument, document_parse
from knowledge.signals import website_source_synced
from knowledge.uploads import document_upload
from knowledge.website_fetch import FetchedPage, FetchRefused, SiteFetcher, same_site

# What a page may be, by its Content-Type: read as an uploaded file of that extension.
PAGE_TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "application/pdf": ".pdf"}
GONE_STATUSES = (404, 410)
SITEMAP_MAX_BYTES = 50 * 1024 * 1024  # the sitemaps protocol's own limit, uncompressed
PROBLEMS_KEPT = 50
MAX_SITEMAPS = 50  # in a sitemap index
URL_LENGTH = WebsitePage._meta.get_field("url").max_length


class PageOutcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ARCHIVED = "archived"
    FAILED = "failed"
    SKIPPED = "skipped"


class SyncFailed(Exception):
    """The whole sync cannot go on (no sitemap, no start page); the message says why."""


HTML_NOT_SITEMAP = (
    "{url} is a web page, not a sitemap: add it as a start page instead, or give the "
    "sitemap's address (often /sitemap.xml)."
)


@dataclass
class SyncReport:
    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # "URL: why", for failed and skipped

    def add(self, outcome: PageOutcome, *, url: str = "", why: str = "") -> None:
        self.counts[outcome] += 1
        if why and len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(f"{url}: {why}")


def website_source_sync(
    *, source: WebsiteSource, actor: AbstractBaseUser | None = None
) -> SyncReport:
    """Fetch the site's pages and bring the source's documents in line with them."""
    WebsiteSource.objects.filter(pk=source.pk).update(status=WebsiteSource.Status.SYNCING)
    report = SyncReport()
    try:
        with SiteFetcher(site=source.start_url) as fetcher:
            _pages_sync(source=source, fetcher=fetcher, report=report)
    except (SyncFailed, FetchRefused) as failure:
        _sync_outcome_store(source=source, report=report, error=str(failure), actor=actor)
    except Exception:  # a fault of Keel's: said so on the page, and the job is retried
        error = "The sync stopped on an unexpected error; it will be tried again."
        _sync_outcome_store(source=source, report=report, error=error, actor=actor)
        raise
    else:
        _sync_outcome_store(source=source, report=report, error="", actor=actor)
    return report


def _sync_outcome_store(
    *, source: WebsiteSource, report: SyncReport, error: str, actor: AbstractBaseUser | None
) -> None:
    with transaction.atomic():
        source.status = WebsiteSource.Status.FAILED if error else WebsiteSource.Status.SYNCED
        source.last_synced_at = timezone.now()
        source.last_error = error
        source.last_counts = {outcome.value: report.counts[outcome] for outcome in PageOutcome}
        source.last_problems = report.problems
        source.save(
            update_fields=["status", "last_synced_at", "last_error", "last_counts", "last_problems"]
        )
        website_source_synced.send(sender=WebsiteSource, source=source, actor=actor)


def _pages_sync(*, source: WebsiteSource, fetcher: SiteFetcher, report: SyncReport) -> None:
    """Every page the source reaches, fetched and stored; then those gone archived. Gone
    means answering 404 or 410, or no longer reached when the whole site was."""
    known = {page.url: page for page in source.pages.select_related("document")}
    sync = _PageSync(source=source, fetcher=fetcher, known=known, report=report)
    if source.kind == WebsiteSource.Kind.SITEMAP:
        complete = _sitemap_pages_sync(sync)
    else:
        complete = _crawl(sync)
    kept = sync.kept if complete else sync.kept | (set(known) - sync.gone)
    for url, page in known.items():
        if url not in kept and page.vanished_at is None:
            _page_archive(page=page)
            report.add(PageOutcome.ARCHIVED)


@dataclass
class _PageSync:
    """What one sync works with, and which known pages it found still there, or gone."""

    source: WebsiteSource
    fetcher: SiteFetcher
    known: dict[str, WebsitePage]
    report: SyncReport
    kept: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)


def _sitemap_pages_sync(sync: _PageSync) -> bool:
    """The pages the sitemap lists, up to the cap; whether that was all of them."""
    source = sync.source
    listed = [
        url
        for url in dict.fromkeys(_sitemap_urls(sync.fetcher, source.start_url))
        if same_site(url, site=source.start_url) and _wanted(source, url)
    ]
    for url in listed[: source.page_cap]:
        _page_sync(sync, url=url)
    if len(listed) > source.page_cap:
        sync.report.problems.append(
            f"The sitemap lists {len(listed)} pages; only the first {source.page_cap} "
            "(the page cap) were fetched."
        )
    return len(listed) <= source.page_cap


def _crawl(sync: _PageSync) -> bool:
    """From the start page, the links on its host that the patterns let in, breadth
    first, until the page cap; whether every page reached was fetched."""
    source = sync.source
    start = urldefrag(source.start_url).url
    if not sync.fetcher.allowed(start):
        raise SyncFailed(f"The site's robots.txt does not let Keel fetch {start}.")
    try:
        first = _page_sync(sync, url=start, start=True)
    except FetchRefused as refused:
        raise SyncFailed(f"The start page could not be fetched: {refused}") from refused
    if first is None or first.status not in (200, 304):
        status = f"answered {first.status}" if first else "could not be fetched"
        raise SyncFailed(f"The start page {start} {status}.")
    host = urlsplit(first.url).netloc  # where it redirected to (example.com → www.)
    queue, queued = deque([first]), {start}
    fetched = 1
    while queue:
        for link in _links(queue.popleft()):
            if urlsplit(link).netloc != host or link in queued or not _wanted(source, link):
                continue
            if fetched >= source.page_cap:
                sync.report.problems.append(f"Stopped at the page cap ({source.page_cap}).")
                return False
            queued.add(link)
            fetched += 1
            page = _page_sync(sync, url=link)
            if page is not None and page.status in (200, 304):
                queue.append(page)
    return True


def _page_sync(sync: _PageSync, *, url: str, start: bool = False) -> FetchedPage | None:
    """One page fetched (conditionally, if Keel has it) and stored as it turned out; the
    page as fetched (with the stored body after a 304, for its links), or None when it
    could not be fetched. Raises `FetchRefused` only for a crawl's `start` page, which
    is read for its links even when the patterns leave it out of the knowledge base."""
    page, report = sync.known.get(url), sync.report
    indexed = not start or _wanted(sync.source, url)
    if len(url) > URL_LENGTH:
        report.add(PageOutcome.SKIPPED, url=url[:200] + "…", why="The address is too long.")
        return None
    if not sync.fetcher.allowed(url):
        report.add(PageOutcome.SKIPPED, url=url, why="robots.txt does not let Keel fetch it.")
        return None
    try:
        fetched = sync.fetcher.get(
            url, etag=page.etag if page else "", last_modified=page.last_modified if page else ""
        )
    except FetchRefused as refused:
        if start:
            raise
        sync.kept.add(url)  # it may be passing: what Keel has of it stays
        report.add(PageOutcome.FAILED, url=url, why=str(refused))
        return None
    if fetched.status in GONE_STATUSES:
        sync.gone.add(url)
        if page is None:  # a broken link or a stale sitemap entry: the admin may fix it
            why = f"The server answered {fetched.status}: there is no page at this address."
            report.add(PageOutcome.SKIPPED, url=url, why=why)
        return fetched
    sync.kept.add(url)
    if page and page.vanished_at and fetched.status in (200, 304):
        _page_restore(page=page)
    if fetched.status == 304 and page:
        stored = _stored_version(page, fetched=fetched)
        if stored is None:  # its file is lost: fetched again whole
            page.etag = page.last_modified = ""
            return _page_sync(sync, url=url, start=start)
        report.add(PageOutcome.UNCHANGED)
        return stored
    if not indexed:
        return fetched
    if fetched.status != 200:
        report.add(PageOutcome.FAILED, url=url, why=f"The server answered {fetched.status}.")
        return fetched
    extension = _extension(fetched)
    if not extension:
        why = f"Not a web page or a PDF ({fetched.content_type or 'no content type'}): skipped."
        report.add(PageOutcome.SKIPPED, url=url, why=why)
        return fetched
    _page_store(sync, url=url, fetched=fetched, extension=extension)
    return fetched


def _stored_version(page: WebsitePage, *, fetched: FetchedPage) -> FetchedPage | None:
    """The page as Keel stored it, for the links a crawl follows from a page unchanged;
    None if its file is gone."""
    stored = page.document.pending_file or page.document.file
    try:
        with stored.open("rb") as handle:
            body = handle.read()
    except (FileNotFoundError, ValueError):
        return None
    content_type = "application/pdf" if stored.name.endswith(".pdf") else "text/html"
    return replace(fetched, body=body, content_type=content_type, url=page.document.url or page.url)


def _page_store(sync: _PageSync, *, url: str, fetched: FetchedPage, extension: str) -> None:
    """A page whose text changed goes through the upload path (stored, queued for the
    worker to index); one whose extracted text is the same is left as it is."""
    source, page, report = sync.source, sync.known.get(url), sync.report
    try:
        text_hash = _text_hash(fetched.body, extension=extension)
    except UnreadableDocument as problem:
        report.add(PageOutcome.FAILED, url=url, why=str(problem))
        return
    elsewhere = (
        WebsitePage.objects.filter(document__knowledge_base=source.knowledge_base, url=url)
        .exclude(website_source=source)
        .select_related("website_source")
        .first()
    )
    if elsewhere:
        why = f"Already taken from {elsewhere.website_source.start_url}: skipped."
        report.add(PageOutcome.SKIPPED, url=url, why=why)
        return
    validators = {"etag": fetched.etag[:500], "last_modified": fetched.last_modified[:100]}
    if page and page.content_hash == text_hash and page.document.status != Document.Status.FAILED:
        WebsitePage.objects.filter(pk=page.pk).update(**validators)
        report.add(PageOutcome.UNCHANGED)
        return
    with transaction.atomic():
        outcome = document_upload(
            knowledge_base=source.knowledge_base,
            source=url,
            content=ContentFile(fetched.body, name=_file_name(url, extension=extension)),
        )
        if outcome.action in (Action.FAILED, Action.SKIPPED):
            report.add(PageOutcome(outcome.action.value), url=url, why=outcome.reason)
            return
        document = outcome.document
        Document.objects.filter(pk=document.pk).update(url=fetched.url[:1000])
        WebsitePage.objects.update_or_create(
            website_source=source,
            url=url,
            defaults={**validators, "document": document, "content_hash": text_hash},
        )
    if outcome.action == Action.UNCHANGED:  # the same file, stored before this page's state
        report.add(PageOutcome.UNCHANGED)
    else:
        report.add(PageOutcome.CHANGED if page else PageOutcome.NEW)


def _page_archive(*, page: WebsitePage) -> None:
    with transaction.atomic():
        document_archive(document=page.document, archived=True)
        page.vanished_at = timezone.now()
        page.save(update_fields=["vanished_at"])


def _page_restore(*, page: WebsitePage) -> None:
    """Back on the site after a sync archived it: searched again."""
    with transaction.atomic():
        document_archive(document=page.document, archived=False)
        page.vanished_at = None
        page.save(update_fields=["vanished_at"])


def _text_hash(body: bytes, *, extension: str) -> str:
    """Of the text Keel would index: a page whose menus or footer alone changed is unchanged."""
    parsed = document_parse(filename=f"page{extension}", data=body)
    return hashlib.sha256(repr((parsed.title, parsed.sections)).encode()).hexdigest()


def _extension(fetched: FetchedPage) -> str:
    if fetched.content_type:
        return PAGE_TYPES.get(fetched.content_type, "")
    return ".pdf" if fetched.body.startswith(b"%PDF") else ".html"


def _file_name(url: str, *, extension: str) -> str:
    """The page's last path segment, as a file name: `/help/returns` → `returns.html`."""
    segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    stem = re.sub(r"[^\w.-]+", "-", segment).strip("-.")
    stem = stem.removesuffix(extension) or "index"
    return f"{stem[:100]}{extension}"


def _wanted(source: WebsiteSource, url: str) -> bool:
    """A path the source's patterns let in."""
    path = urlsplit(url).path or "/"
    include = _patterns(source.include_patterns)
    if include and not any(fnmatch.fnmatchcase(path, pattern) for pattern in include):
        return False
    exclude = _patterns(source.exclude_patterns)
    return not any(fnmatch.fnmatchcase(path, pattern) for pattern in exclude)


def _patterns(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _links(page: FetchedPage) -> list[str]:
    """The links of an HTML page, absolute and without fragments."""
    if _extension(page) != ".html" or not page.body.strip():
        return []
    try:
        document = lxml.html.fromstring(page.body, base_url=page.url)
    except (lxml.etree.ParserError, ValueError):
        return []
    document.make_links_absolute(resolve_base_href=True)
    return [urldefrag(href.strip()).url for href in document.xpath("//a/@href")]


def _sitemap_urls(fetcher: SiteFetcher, url: str, *, nested: bool = False) -> list[str]:
    """The page addresses a sitemap lists; a sitemap index's sitemaps are read in turn
    (one level deep, on the site)."""
    fetched = fetcher.get(url)
    if fetched.status != 200:
        raise SyncFailed(f"The sitemap {url} answered {fetched.status}.")
    body = fetched.body
    if body[:2] == b"\x1f\x8b":
        body = _gunzipped(body, url=url)
    if fetched.content_type in ("text/html", "application/xhtml+xml"):
        raise SyncFailed(HTML_NOT_SITEMAP.format(url=url))
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = lxml.etree.fromstring(body, parser=parser)
    except lxml.etree.XMLSyntaxError as error:
        raise SyncFailed(f"{url} is not a sitemap: it is not XML ({error}).") from error
    tag = lxml.etree.QName(root).localname
    locations = [loc.text.strip() for loc in root.iterfind("{*}*/{*}loc") if loc.text]
    if tag == "urlset":
        return locations
    if tag == "sitemapindex" and not nested:
        if len(locations) > MAX_SITEMAPS:
            raise SyncFailed(
                f"The sitemap index {url} lists {len(locations)} sitemaps; Keel reads at "
                f"most {MAX_SITEMAPS}: add the ones you want as websites of their own."
            )
        return [
            page
            for sitemap in locations
            if same_site(sitemap, site=url)
            for page in _sitemap_urls(fetcher, sitemap, nested=True)
        ]
    if tag == "html":
        raise SyncFailed(HTML_NOT_SITEMAP.format(url=url))
    raise SyncFailed(f"{url} is not a sitemap (its XML is a <{tag}>, not a <urlset>).")


def _gunzipped(body: bytes, *, url: str) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as unzipped:
        data = unzipped.read(SITEMAP_MAX_BYTES + 1)
    if len(data) > SITEMAP_MAX_BYTES:
        raise SyncFailed(f"The sitemap {url} is larger than the sitemaps protocol allows.")
    return data
