"""An admin in a real browser adds the shop's website as a source and sees its pages
arrive, indexed, with their addresses, without reloading."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import log_in
from tests.support.website import Page, SiteServer, sitemap
from tests.test_website_sync import bike_shop

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def sync_environment():
    """Keel's processes (the module's server and the worker) may fetch the tests' site on
    loopback."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("KEEL_SYNC_ALLOW_PRIVATE", "1")
        environment.setenv("KEEL_SYNC_DELAY_SECONDS", "0")
        yield


@pytest.fixture
def shop():
    site = bike_shop()
    with SiteServer(site) as url:
        site.pages["/sitemap.xml"] = Page(
            body=sitemap("/help/returns", "/help/delivery", "/logo.png", base=url),
            content_type="application/xml",
        )
        yield site


def test_an_admin_adds_a_website_and_sees_its_pages_indexed(
    keel_server, page, admin_membership, knowledge_base, worker_process, shop
):
    knowledge_base_url = reverse(
        "knowledge_base",
        kwargs={
            "workspace_slug": knowledge_base.workspace.slug,
            "knowledge_base_slug": knowledge_base.slug,
        },
    )
    log_in(page, url=keel_server + knowledge_base_url, membership=admin_membership)
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Address").fill(shop.url + "/sitemap.xml")
    page.get_by_label("It is").select_option("sitemap")
    page.get_by_label("Sync again").select_option("manual")
    page.get_by_role("button", name="Add website").click()

    source = page.locator("#website-list tbody tr")
    expect(source).to_contain_text(shop.url + "/sitemap.xml")
    expect(source.locator(".status")).to_contain_text("Synced", timeout=120_000)
    expect(source).to_contain_text("2 new · 0 changed · 0 unchanged")
    expect(source).to_contain_text("1 skipped")
    documents = page.locator("#documents tbody tr")
    expect(documents).to_have_count(2)
    for title, path in (("Returns", "/help/returns"), ("Delivery", "/help/delivery")):
        row = documents.filter(has_text=title)
        expect(row.locator(".status")).to_have_text("Ready", timeout=120_000)
        expect(row.get_by_role("link", name=shop.url + path)).to_be_visible()

    source.get_by_role("button", name="Sync now").click()
    expect(source).to_contain_text("0 new · 0 changed · 2 unchanged", timeout=120_000)
    assert page.evaluate("window.notReloaded") is True
