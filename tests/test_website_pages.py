"""The admin's website sources pages: add a website, sync it now, remove it, through HTTP
as an admin; the worker syncs and indexes; the assistant cites the page's address."""

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob

from assistant.models import AuditEvent, Citation, Membership, Message
from knowledge.ingest import document_index
from knowledge.models import Document, WebsiteSource
from knowledge.website_sync import website_source_sync
from tests.support.chat import one_question
from tests.support.factories import KnowledgeBaseFactory, MembershipFactory
from tests.support.website import Page, SiteServer, sitemap
from tests.test_website_sync import bike_shop, source_of


def url(name, knowledge_base, **kwargs):
    return reverse(
        name,
        kwargs={
            "workspace_slug": knowledge_base.workspace.slug,
            "knowledge_base_slug": knowledge_base.slug,
            **kwargs,
        },
    )


def add(client, knowledge_base, **fields):
    data = {"kind": "sitemap", "schedule": "daily", "page_cap": 200, **fields}
    return client.post(url("website_add", knowledge_base), data, headers={"HX-Request": "true"})


@pytest.fixture
def shop(settings):
    settings.KEEL_SYNC_ALLOW_PRIVATE = True
    settings.KEEL_SYNC_DELAY_SECONDS = 0
    site = bike_shop()
    with SiteServer(site) as site_url:
        site.pages["/sitemap.xml"] = Page(
            body=sitemap("/help/returns", "/help/delivery", base=site_url),
            content_type="application/xml",
        )
        yield site


def sync_jobs() -> int:
    return ProcrastinateJob.objects.filter(
        task_name="knowledge.website_tasks.website_source_sync_job", status="todo"
    ).count()


def test_an_admin_adds_a_website_and_the_worker_syncs_and_indexes_its_pages(
    admin_client, admin_membership, knowledge_base, job_queue, shop
):
    response = add(admin_client, knowledge_base, start_url=shop.url + "/sitemap.xml")

    assert response.status_code == 200
    assert f"{shop.url}/sitemap.xml".encode() in response.content
    assert b"Waiting to sync" in response.content
    source = knowledge_base.website_sources.get()
    added = AuditEvent.objects.get(kind=AuditEvent.Kind.WEBSITE_ADDED)
    assert (added.actor, added.detail["url"]) == (admin_membership.user, source.start_url)

    job_queue()

    source.refresh_from_db()
    assert source.status == WebsiteSource.Status.SYNCED
    assert set(knowledge_base.documents.values_list("url", "status")) == {
        (shop.url + "/help/returns", Document.Status.READY),
        (shop.url + "/help/delivery", Document.Status.READY),
    }
    synced = AuditEvent.objects.get(kind=AuditEvent.Kind.WEBSITE_SYNCED)
    assert synced.actor == admin_membership.user and synced.detail["counts"]["new"] == 2
    page = admin_client.get(url("knowledge_base", knowledge_base)).content.decode()
    assert "2 new · 0 changed · 0 unchanged · 0 archived · 0 failed · 0 skipped" in page
    assert f'<a href="{shop.url}/help/returns" rel="noopener nofollow">' in page
    assert "Returns" in page  # the title read from the page


@pytest.mark.django_db
def test_sync_now_queues_the_sync_once_and_remove_takes_the_pages_with_it(
    admin_client, admin_membership, knowledge_base, shop
):
    source = source_of(knowledge_base, shop)
    website_source_sync(source=source)
    ProcrastinateJob.objects.all().delete()

    for _ in range(2):
        response = admin_client.post(
            url("website_sync", knowledge_base, source_id=source.pk),
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200 and b"Waiting to sync" in response.content
    assert sync_jobs() == 1

    response = admin_client.post(
        url("website_remove", knowledge_base, source_id=source.pk), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200 and b"No website yet." in response.content
    assert not WebsiteSource.objects.exists() and not knowledge_base.documents.exists()
    removed = AuditEvent.objects.get(kind=AuditEvent.Kind.WEBSITE_REMOVED)
    assert removed.actor == admin_membership.user


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (
            {"start_url": "ftp://shop.example/sitemap.xml"},
            "Give a web address starting with http:// or https://.",
        ),
        (
            {"start_url": "http://{site}/sitemap.xml", "include_patterns": "help/*"},
            "A pattern is a path starting with / or *, such as /help/*: not &#x27;help/*&#x27;.",
        ),
        ({"start_url": "http://{site}/sitemap.xml", "page_cap": 0}, "greater than or equal to 1"),
        ({"start_url": "http://no-such-host.invalid/"}, "could not be resolved"),
    ],
)
@pytest.mark.django_db
def test_bad_input_is_refused_in_place_and_nothing_is_added(
    admin_client, knowledge_base, shop, fields, error
):
    fields = {
        name: value.format(site=shop.url.removeprefix("http://"))
        if isinstance(value, str)
        else value
        for name, value in fields.items()
    }

    response = add(admin_client, knowledge_base, **fields)

    assert response.status_code == 200  # htmx swaps it: the error shows by the form
    assert error in response.content.decode()
    assert not WebsiteSource.objects.exists()


@pytest.mark.django_db
def test_without_htmx_a_bad_address_gets_a_page_with_the_error_and_a_good_one_a_redirect(
    admin_client, knowledge_base, shop
):
    data = {"kind": "sitemap", "schedule": "daily", "page_cap": 200}

    refused = admin_client.post(
        url("website_add", knowledge_base), {**data, "start_url": "ftp://shop.example/"}
    )
    added = admin_client.post(
        url("website_add", knowledge_base), {**data, "start_url": shop.url + "/sitemap.xml"}
    )

    assert refused.status_code == 400
    assert b"Give a web address starting with http:// or https://." in refused.content
    assert added.status_code == 302 and added.url == url("knowledge_base", knowledge_base)
    assert WebsiteSource.objects.get().start_url == shop.url + "/sitemap.xml"


@pytest.mark.django_db
def test_a_loopback_address_is_refused_without_the_operator_setting(
    admin_client, knowledge_base, shop, settings
):
    settings.KEEL_SYNC_ALLOW_PRIVATE = False

    response = add(admin_client, knowledge_base, start_url=shop.url + "/sitemap.xml")

    assert "a private, loopback or reserved address" in response.content.decode()
    assert "KEEL_SYNC_ALLOW_PRIVATE=1" in response.content.decode()
    assert not WebsiteSource.objects.exists()
    assert not shop.requests


@pytest.mark.django_db
def test_the_same_website_twice_is_refused(admin_client, knowledge_base, shop):
    assert add(admin_client, knowledge_base, start_url=shop.url + "/sitemap.xml").status_code == 200
    response = add(admin_client, knowledge_base, start_url=shop.url + "/sitemap.xml")

    assert b"This knowledge base already has this website." in response.content
    assert WebsiteSource.objects.count() == 1


@pytest.mark.django_db
def test_an_agent_cannot_add_a_website_and_another_workspace_cannot_see_or_touch_one(
    client, knowledge_base, shop
):
    source = source_of(knowledge_base, shop)
    agent = MembershipFactory(workspace=knowledge_base.workspace, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    assert add(client, knowledge_base, start_url=shop.url + "/other.xml").status_code == 403
    assert client.post(url("website_sync", knowledge_base, source_id=source.pk)).status_code == 403

    other = KnowledgeBaseFactory(slug=knowledge_base.slug)
    outsider = MembershipFactory(workspace=other.workspace, role=Membership.Role.ADMIN)
    client.force_login(outsider.user)
    for name in ("website_sync", "website_remove"):
        assert client.post(url(name, other, source_id=source.pk)).status_code == 404
    listing = client.get(url("website_sources", other))
    assert source.start_url.encode() not in listing.content
    assert client.get(url("website_sources", knowledge_base)).status_code == 404
    assert WebsiteSource.objects.filter(pk=source.pk, status=WebsiteSource.Status.QUEUED).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.WEBSITE_REMOVED).count() == 0


def site_synced_and_indexed(knowledge_base, site) -> None:
    website_source_sync(source=source_of(knowledge_base, site))
    for document in Document.objects.filter(knowledge_base=knowledge_base):
        document_index(document=document)


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_the_assistant_answers_from_a_synced_page_and_cites_its_address(
    transactional_db, shop
):
    knowledge_base = await database_sync_to_async(KnowledgeBaseFactory)()
    await database_sync_to_async(site_synced_and_indexed)(knowledge_base, shop)

    answer = await one_question(
        knowledge_base.workspace.public_key, "How many days do I have to return a bike?"
    )

    assert "45 days" in answer.text
    cited = await database_sync_to_async(list)(
        Citation.objects.filter(
            message__conversation__workspace=knowledge_base.workspace,
            message__role=Message.Role.ASSISTANT,
        ).values_list("document_url", flat=True)
    )
    assert shop.url + "/help/returns" in cited
