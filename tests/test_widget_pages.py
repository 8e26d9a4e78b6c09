"""The widget's staff settings page and its public pages (the demo site)."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assistant.models import AuditEvent, Membership
from assistant.widget.demo import DEMO_WORKSPACE_SLUG
from tests.support.factories import (
    CitationFactory,
    DocumentFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)
from tests.support.files import png

pytestmark = pytest.mark.django_db


def settings_url(workspace) -> str:
    return reverse("widget_settings", kwargs={"workspace_slug": workspace.slug})


def test_only_the_workspaces_admins_open_the_widget_settings(client, admin_membership):
    workspace = admin_membership.workspace
    assert client.get(settings_url(workspace)).url.startswith(reverse("login"))
    client.force_login(UserFactory())
    assert client.get(settings_url(workspace)).status_code == 404
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    assert client.get(settings_url(workspace)).status_code == 403
    assert client.post(settings_url(workspace), {"greeting": "Hacked"}).status_code == 403


def test_admin_sees_the_embed_snippet_and_saves_the_look(admin_client, admin_membership):
    workspace = admin_membership.workspace
    page = admin_client.get(settings_url(workspace)).content.decode()
    assert f'data-workspace="{workspace.public_key}"' in page.replace("&quot;", '"')
    assert workspace.identity_secret in page

    response = admin_client.post(
        settings_url(workspace),
        {
            "greeting": "Hello! <b>Ask</b> away.",
            "brand_colour": "#aa3300",
            "allowed_origins": "https://www.shop.example/help\nhttps://shop.example:8443\n",
            "avatar": SimpleUploadedFile("face.png", png(), content_type="image/png"),
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200 and b"Saved." in response.content
    workspace.refresh_from_db()
    assert workspace.brand_colour == "#aa3300"
    assert workspace.allowed_origins == ["https://shop.example:8443", "https://www.shop.example"]
    assert workspace.avatar.name.startswith("avatars/")
    panel = admin_client.get(reverse("chat_panel", args=[workspace.public_key]))
    assert b"Hello! &lt;b&gt;Ask&lt;/b&gt; away." in panel.content
    assert workspace.avatar.url.encode() in panel.content


def test_admin_sets_the_domains_and_contacts_answers_may_give(admin_client, admin_membership):
    workspace = admin_membership.workspace
    response = admin_client.post(
        settings_url(workspace),
        {
            "greeting": "Hi",
            "brand_colour": "#2f6b3a",
            "domains": "https://www.Spoke-Chain.example/help\nrentals.spoke-chain.example\n",
            "contact_details": "desk@spoke-chain.example\n  +1 (555) 010-7788 \n\n",
        },
    )

    assert b"Saved." in response.content
    workspace.refresh_from_db()
    assert workspace.domains == ["rentals.spoke-chain.example", "spoke-chain.example"]
    assert workspace.contact_details == ["desk@spoke-chain.example", "+1 (555) 010-7788"]
    page = admin_client.get(settings_url(workspace)).content.decode()
    assert "rentals.spoke-chain.example\nspoke-chain.example</textarea>" in page


def test_an_agent_cannot_set_the_domains(client, admin_membership):
    workspace = admin_membership.workspace
    agent = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT)
    client.force_login(agent.user)
    response = client.post(settings_url(workspace), {"domains": "evil.example"})
    assert response.status_code == 403
    workspace.refresh_from_db()
    assert workspace.domains == []


def test_the_avatar_is_served_to_anyone_and_no_other_uploaded_file_is(client, knowledge_base):
    workspace = knowledge_base.workspace
    workspace.avatar.save("face.png", ContentFile(png()))
    old = workspace.avatar.name
    workspace.avatar.save("face.png", ContentFile(png()))  # replaced: a new name
    document = DocumentFactory(knowledge_base=knowledge_base)
    document.file.save("returns.md", ContentFile(b"# Returns, private to the workspace"))

    response = client.get(workspace.avatar.url)  # no login: every widget shows it
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png()

    media = workspace.avatar.url.removesuffix(workspace.avatar.name)
    for name in (old, document.file.name, f"avatars/../{document.file.name}"):
        assert client.get(media + name).status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("allowed_origins", "not a site", "is not a web address"),
        ("allowed_origins", "ftp://files.example", "is not a web address"),
        ("domains", "not a domain", "is not a domain like example.com"),
        ("domains", "<script>x</script>.example", "“&lt;script&gt;x&lt;/script&gt;.example”"),
        ("contact_details", "call us any time", "is not one e-mail address or phone number"),
        ("contact_details", "a@shop.example, b@shop.example", "is not one e-mail address"),
        ("brand_colour", "#12345g", "Use a colour like"),
        ("brand_colour", "red;}body{", "at most 7 characters"),
        ("avatar", SimpleUploadedFile("face.png", b"not an image"), "Upload a valid image"),
        ("suggested_questions", "a\nb\nc\nd\ne", "Keep it to 4 questions; this has 5."),
        ("suggested_questions", "Why" * 41, "is 123 characters long; keep each to 120"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(
    admin_client, admin_membership, field, value, problem
):
    workspace = admin_membership.workspace
    data = {"greeting": "Hi from a bad form", "brand_colour": "#2f6b3a"}
    response = admin_client.post(settings_url(workspace), {**data, field: value})
    assert problem in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.greeting != "Hi from a bad form"


def test_rotating_the_identity_secret_replaces_it(admin_client, admin_membership):
    workspace = admin_membership.workspace
    old_secret = workspace.identity_secret
    response = admin_client.post(
        reverse("widget_identity_secret", kwargs={"workspace_slug": workspace.slug})
    )
    workspace.refresh_from_db()
    assert response.status_code == 200 and workspace.identity_secret != old_secret
    assert workspace.identity_secret.encode() in response.content


def test_demo_site_carries_the_widget_tag_and_staff_home_moved(client):
    assert client.get("/").url == reverse("home")  # no demo workspace yet
    workspace = WorkspaceFactory(slug=DEMO_WORKSPACE_SLUG, name="Trailhead Cycles")

    page = client.get("/").content.decode()

    assert "/static/keel/widget.js" in page
    assert f'data-workspace="{workspace.public_key}"' in page
    assert client.get(reverse("home")).url.startswith(reverse("login"))


def test_unknown_chat_panel_and_source_are_not_found(client, admin_membership):
    key = admin_membership.workspace.public_key
    assert client.get(reverse("chat_panel", args=["pk_missing"])).status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(reverse("cited_source", args=[key, missing])).status_code == 404


def test_admin_sets_suggested_questions_the_chat_offers_as_buttons(admin_client, admin_membership):
    workspace = admin_membership.workspace
    other = WorkspaceFactory()
    response = admin_client.post(
        settings_url(workspace),
        {
            "greeting": workspace.greeting,
            "brand_colour": workspace.brand_colour,
            "suggested_questions": "  Can I change my flight?\n\nHow much is a <b>bag</b>?\n"
            "Can I change my flight?\n",
        },
    )

    assert b"Saved." in response.content
    workspace.refresh_from_db()
    assert workspace.suggested_questions == ["Can I change my flight?", "How much is a <b>bag</b>?"]
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.WIDGET_SETTINGS)
    assert event.detail == {"changed": ["suggested_questions"]}
    page = admin_client.get(settings_url(workspace)).content.decode()
    assert "Can I change my flight?\nHow much is a &lt;b&gt;bag&lt;/b&gt;?</textarea>" in page

    panel = admin_client.get(reverse("chat_panel", args=[workspace.public_key])).content.decode()
    assert 'name="message" value="How much is a &lt;b&gt;bag&lt;/b&gt;?"' in panel
    other_panel = admin_client.get(reverse("chat_panel", args=[other.public_key]))
    assert b"suggestions__button" not in other_panel.content
    # Another workspace's admin cannot set them: its slug is not theirs.
    response = admin_client.post(settings_url(other), {"suggested_questions": "Hacked?"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.suggested_questions == []


def test_the_panel_reads_a_cited_passage_for_its_sheet(client, knowledge_base):
    document = DocumentFactory(
        knowledge_base=knowledge_base,
        title="Baggage allowance",
        url="https://air.example/help/bags",
    )
    citation = CitationFactory(
        message__conversation__workspace=knowledge_base.workspace,
        document=document,
        document_url=document.url,
        heading="Cabin bags",
        quote="One cabin bag of 8 kg is included.",
    )
    url = reverse("cited_source", args=[knowledge_base.workspace.public_key, citation.public_id])

    sheet = client.get(url, headers={"HX-Request": "true"})

    text = sheet.content.decode()
    assert "<html" not in text and sheet["Vary"] == "HX-Request"
    assert 'id="sheet-title"' in text and "Baggage allowance" in text and "Cabin bags" in text
    assert "One cabin bag of 8 kg is included." in text  # the chunk is gone: the quote
    assert 'href="https://air.example/help/bags"' in text
    assert "Back to the chat" in text
    other_key = WorkspaceFactory().public_key
    other = reverse("cited_source", args=[other_key, citation.public_id])
    assert client.get(other, headers={"HX-Request": "true"}).status_code == 404
