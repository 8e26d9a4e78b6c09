"""E-mail tickets: the acknowledgement and the agent's reply go out through a real SMTP
server, threaded, with the customer's link; the customer's e-mail reply comes back into
the conversation (pushed to the console), and what must not become a message does not."""

import re
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.db import connection
from django.db import transaction as django_transaction
from django.test import AsyncClient, Client
from django.urls import reverse
from django.utils import timezone

from assistant.common.threads import in_thread
from assistant.models import (
    AgentNote,
    AgentPresence,
    AuditEvent,
    Conversation,
    Handoff,
    Membership,
    Message,
    TicketMail,
    VaultEntry,
)
from assistant.tickets.addresses import reply_address
from assistant.tickets.sending import ticket_mail_send
from assistant.tickets.services import ticket_mail_queue
from assistant.tickets.tasks import waits_notify_job
from tests.conftest import free_port
from tests.support.chat import AgentClient, ChatClient, visible_text
from tests.support.factories import (
    ConversationFactory,
    HandoffFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)
from tests.support.smtp import smtp_server_running

SECRET = "inbound-secret-of-the-bike-shop-tests"
REPLY_DOMAIN = "reply.spokeandchain.example"
PUBLIC_URL = "https://help.spokeandchain.example"


@pytest.fixture
def ticket_settings(settings):
    settings.KEEL_INBOUND_SECRET = SECRET
    settings.KEEL_REPLY_DOMAIN = REPLY_DOMAIN
    settings.KEEL_PUBLIC_URL = PUBLIC_URL
    settings.DEFAULT_FROM_EMAIL = "help@spokeandchain.example"
    return settings


@pytest.fixture
def smtp_server(settings):
    with smtp_server_running(settings=settings) as inbox:
        yield inbox


def customer_reply(*, to: str, text: str = "", in_reply_to: str = "", **headers) -> bytes:
    mail = EmailMessage()
    mail["From"] = headers.pop("sender", "Robin Rider <robin@rider.example>")
    mail["To"] = to
    mail["Subject"] = "Re: Your question to Spoke & Chain Bikes"
    mail["Message-ID"] = make_msgid(domain="rider.example")
    if in_reply_to:
        mail["In-Reply-To"] = mail["References"] = in_reply_to
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    if text:
        mail.set_content(text)
    return bytes(mail)


def inbound_post(client, raw: bytes, *, secret: str = SECRET):
    return client.post(
        reverse("ticket_inbound"),
        data=raw,
        content_type="message/rfc822",
        headers={"authorization": f"Bearer {secret}"},
    )


@in_thread
def signed_in(workspace) -> tuple[Membership, str]:
    membership = MembershipFactory(workspace=workspace, role=Membership.Role.AGENT)
    client = Client()
    client.force_login(membership.user)
    return membership, client.cookies["sessionid"].value


@pytest.mark.asyncio
@pytest.mark.usefixtures("chat_state")
async def test_a_ticket_goes_out_by_smtp_threaded_and_the_customers_reply_comes_back(
    transactional_db, job_queue, smtp_server, ticket_settings
):
    workspace = await in_thread(WorkspaceFactory)(name="Spoke & Chain Bikes")
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    await chat.hello()
    await chat.send({"type": "handoff"})
    await chat.until('id="ticket-email"')
    await chat.send({"type": "ticket", "email": "robin@rider.example"})
    await chat.until("can contact you at")
    await chat.close()

    conversation = await in_thread(Conversation.objects.get)(workspace=workspace)
    _, session_key = await signed_in(workspace)
    http = AsyncClient()
    http.cookies["sessionid"] = session_key
    actions = [workspace.slug, conversation.pk]
    await http.post(reverse("console_claim", args=actions))
    await http.post(
        reverse("console_reply", args=actions),
        {"text": "Your <b>wheel</b> ships on Monday.\nThanks for waiting."},
    )
    await http.post(reverse("console_resolve", args=actions))

    # The mail server is down: each e-mail's attempt is recorded, and its job waits to retry.
    smtp_port, smtp_server_down = smtp_server.port, free_port()
    ticket_settings.EMAIL_PORT = smtp_server_down
    await in_thread(job_queue)()
    failed = await in_thread(lambda: list(TicketMail.objects.values_list("status", "attempts")))()
    assert failed == [("failed", 1), ("failed", 1)]

    def retry_now() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo' "
                "RETURNING task_name"
            )
            return [row[0] for row in cursor.fetchall()]

    assert len(await in_thread(retry_now)()) == 2
    ticket_settings.EMAIL_PORT = smtp_port
    await in_thread(job_queue)()

    acknowledgement, reply = smtp_server.mails
    address = reply_address(conversation_id=conversation.pk)
    assert acknowledgement.envelope_to == reply.envelope_to == ["robin@rider.example"]
    assert "a person from Spoke & Chain Bikes will reply" in acknowledgement.message.get_body(
        ("plain",)
    ).get_content().replace("\n", " ")
    assert acknowledgement.message["Auto-Submitted"] == "auto-replied"
    message = reply.message
    assert reply.envelope_from == address == message["Reply-To"]
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Spoke & Chain Bikes",
        "help@spokeandchain.example",
    )
    # A long id may be folded onto the header's next line; the id is the same.
    threading = {message["In-Reply-To"].strip(), message["References"].strip()}
    assert threading == {acknowledgement.message["Message-ID"].strip()}
    assert message["Message-ID"].endswith(f"@{REPLY_DOMAIN}>")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Your <b>wheel</b> ships on Monday." in text
    assert "Your &lt;b&gt;wheel&lt;/b&gt; ships on Monday.<br>" in html
    link = re.search(rf"{re.escape(PUBLIC_URL)}(/tickets/\S+/)", text)[1]
    assert f'href="{PUBLIC_URL}{link}"' in html
    statuses = await in_thread(
        lambda: list(
            AuditEvent.objects.filter(kind=AuditEvent.Kind.TICKET_MAIL)
            .order_by("pk")
            .values_list("detail__mail", "detail__status")
        )
    )()
    assert statuses == [
        ("acknowledgement", "failed"),
        ("reply", "failed"),
        ("acknowledgement", "sent"),
        ("reply", "sent"),
    ]

    # The link opens the transcript; a tampered one opens nothing.
    page = await AsyncClient().get(link)
    assert page.status_code == 200 and "ships on Monday" in visible_text(page.content.decode())
    assert (await AsyncClient().get(link.replace("/tickets/", "/tickets/x"))).status_code == 404

    console = AgentClient(workspace.slug, session_key=session_key)
    assert (await console.connect())[0]
    await console.send({"type": "watch", "conversation_id": str(conversation.pk), "refresh": True})
    await console.until("ships on Monday")
    answer = (
        "Great, thanks! Charge the rest to 4111 1111 1111 1111.\n\n"
        "Best regards,\nRobin\n\n"
        "On Mon, 7 Dec 2026 at 10:00, Spoke & Chain Bikes <help@spokeandchain.example> wrote:\n"
        "> Your wheel ships on Monday.\n> Thanks for waiting.\n"
    )
    raw = customer_reply(to=address, text=answer, in_reply_to=message["Message-ID"])
    response = await inbound_post(AsyncClient(), raw)
    assert response.status_code == 204
    pushed = visible_text(await console.until("Great, thanks!"))
    assert "Charge the rest to [CARD_1]." in pushed
    assert "4111" not in pushed and "wrote:" not in pushed and "Best regards" not in pushed
    await console.close()

    stored = await in_thread(
        lambda: Message.objects.filter(conversation=conversation).order_by("pk").last()
    )()
    assert stored.role == Message.Role.CUSTOMER
    assert stored.text == "Great, thanks! Charge the rest to [CARD_1]."
    assert await in_thread(VaultEntry.objects.filter(message=stored).count)() == 1
    # Resolved before, the ticket waits for a person again, to the same address.
    await in_thread(conversation.refresh_from_db)()
    assert conversation.state == Conversation.State.WAITING
    handoff = await in_thread(Handoff.objects.filter(conversation=conversation).last)()
    assert handoff.closed_at is None and handoff.customer_email == "robin@rider.example"
    # The same e-mail posted again (a provider's retry) is kept once.
    assert (await inbound_post(AsyncClient(), raw)).status_code == 204
    assert await in_thread(Message.objects.filter(conversation=conversation).count)() == 3


def test_what_comes_back_that_is_not_the_customer_writing(db, client, ticket_settings):
    conversation = ConversationFactory(
        workspace=WorkspaceFactory(name="First Harbour Bank"), state=Conversation.State.WAITING
    )
    HandoffFactory(conversation=conversation, customer_email="ada@lovelace.example")
    address = reply_address(conversation_id=conversation.pk)

    def created() -> tuple[int, int, int]:
        return (
            Message.objects.count(),
            TicketMail.objects.count(),
            AgentNote.objects.count(),
        )

    # Not Keel's address, or tampered with, or no secret: refused, nothing created.
    tampered = address.replace("reply+", "reply+1")
    for raw, secret, status in [
        (customer_reply(to=tampered, text="Hello?"), SECRET, 400),
        (customer_reply(to="someone@else.example", text="Hello?"), SECRET, 400),
        (customer_reply(to=address, text="Hello?"), "a guess", 403),
    ]:
        assert inbound_post(client, raw, secret=secret).status_code == status
    ticket_settings.KEEL_INBOUND_SECRET = ""
    assert inbound_post(client, customer_reply(to=address, text="Hi"), secret="").status_code == 403
    ticket_settings.KEEL_INBOUND_SECRET = SECRET
    assert created() == (0, 0, 0)

    # A delivery report: a note for the agents, no message from the customer.
    bounce = (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.lovelace.example>\r\n"
        f"To: {address}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.lovelace.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; ada@lovelace.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\n\r\n--b--\r\n"
    ).encode()
    assert inbound_post(client, bounce).status_code == 204
    note = AgentNote.objects.get(conversation=conversation)
    assert "came back" in note.text and "550 5.1.1 mailbox unknown" in note.text
    assert note.author is None
    # An out-of-office reply is no customer message either.
    vacation = customer_reply(
        to=address, text="I am away until Monday.", Auto_Submitted="auto-replied"
    )
    assert inbound_post(client, vacation).status_code == 204
    assert Message.objects.count() == 0
    assert list(TicketMail.objects.values_list("kind", flat=True)) == ["bounce", "bounce"]

    # Attachments alone: a line saying so, never an empty message.
    attachments_only = EmailMessage()
    attachments_only["From"] = "ada@lovelace.example"
    attachments_only["To"] = f"Support <{address.upper()}>"  # a mail system changed its case
    attachments_only["Message-ID"] = make_msgid()
    attachments_only.add_attachment(
        b"%PDF-1.4 statement", maintype="application", subtype="pdf", filename="statement.pdf"
    )
    assert inbound_post(client, bytes(attachments_only)).status_code == 204
    assert Message.objects.get().text == "(attachment not shown: statement.pdf)"
    # A reply longer than a chat message may be: as much as one, and the cut said.
    ticket_settings.KEEL_MAX_MESSAGE_CHARS = 40
    long_reply = customer_reply(to=address, text="My statement shows a fee twice. " * 3)
    assert inbound_post(client, long_reply).status_code == 204
    assert Message.objects.last().text == (
        "My statement shows a fee twice. My state\n"
        "(the rest of this e-mail, 55 characters, is not shown)"
    )
    conversation.refresh_from_db()
    assert conversation.state == Conversation.State.WAITING
    assert Handoff.objects.filter(conversation=conversation).count() == 1


def test_an_agent_opts_in_and_hears_once_of_a_customer_waiting_with_nobody_online(
    db, client, mailoutbox, django_capture_on_commit_callbacks, ticket_settings
):
    workspace = WorkspaceFactory(name="Northwind Air")
    agent = MembershipFactory(
        workspace=workspace,
        role=Membership.Role.AGENT,
        user=UserFactory(email="kim@northwind.example"),
    )
    MembershipFactory(workspace=workspace, user=UserFactory(email="lee@northwind.example"))
    client.force_login(agent.user)
    settings_url = reverse("console_notifications", args=[workspace.slug])
    refused = client.post(settings_url, {"by_email": "on", "after_minutes": "0"})
    assert refused.status_code == 200 and "greater than or equal to 1" in refused.content.decode()
    saved = client.post(settings_url, {"by_email": "on", "after_minutes": "5"}, follow=True)
    assert "Your notification settings are saved." in saved.content.decode()

    def waiting(minutes: int) -> Handoff:
        handoff = HandoffFactory(
            conversation=ConversationFactory(workspace=workspace, state=Conversation.State.WAITING),
            summary=f"Asked about a flight change, waiting {minutes} minutes.",
        )
        Handoff.objects.filter(pk=handoff.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes)
        )
        return handoff

    long_wait, _ = waiting(12), waiting(2)
    elsewhere = WorkspaceFactory()
    HandoffFactory(conversation=ConversationFactory(workspace=elsewhere, state="waiting"))

    def run() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            waits_notify_job(timestamp=0)

    presence = AgentPresence.objects.create(
        user=UserFactory(), workspace=workspace, channel_name="someone-online"
    )
    run()
    assert mailoutbox == []  # someone is online in the console
    presence.delete()
    run()
    run()
    assert [mail.to for mail in mailoutbox] == [["kim@northwind.example"]]
    body = mailoutbox[0].body
    assert "waiting 12 minutes" in body
    assert (
        f"{PUBLIC_URL}/console/{workspace.slug}/conversations/{long_wait.conversation_id}/" in body
    )


def test_an_email_that_cannot_be_sent_is_noted_for_the_agents_after_the_last_attempt(
    db, ticket_settings
):
    conversation = ConversationFactory(workspace=WorkspaceFactory(name="Clearwater Utilities"))
    with django_transaction.atomic():
        mail = ticket_mail_queue(
            conversation=conversation,
            kind=TicketMail.Kind.ACKNOWLEDGEMENT,
            address="meter@reader.example",
        )
    ticket_settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    ticket_settings.EMAIL_HOST, ticket_settings.EMAIL_PORT = "127.0.0.1", free_port()
    ticket_settings.EMAIL_USE_TLS = False

    with pytest.raises(OSError):
        ticket_mail_send(mail_id=mail.pk)
    assert not AgentNote.objects.exists()  # the job tries again
    with pytest.raises(OSError):
        ticket_mail_send(mail_id=mail.pk, last_attempt=True)
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (TicketMail.Status.FAILED, 2)
    note = AgentNote.objects.get(conversation=conversation)
    assert "could not be sent, and Keel stopped trying: ConnectionRefusedError" in note.text
