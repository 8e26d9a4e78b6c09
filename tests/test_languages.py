"""The customer's language: Keel's fixed replies come in the language the customer writes
in, through the real socket, pipeline, store and embeddings (the help center is English)."""

import pytest
from channels.db import database_sync_to_async

from assistant.models import Message
from tests.support.chat import ChatClient, one_question, visible_text
from tests.support.commands import ingest
from tests.support.factories import KnowledgeBaseFactory, PolicyVersionFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.usefixtures("chat_state")]


@database_sync_to_async
def last_reply(workspace) -> Message:
    return Message.objects.filter(
        conversation__workspace=workspace, role=Message.Role.ASSISTANT
    ).latest("pk")


@pytest.mark.parametrize(
    ("question", "in_language"),
    [
        (
            "¿Cuántos habitantes tiene la ciudad de Valparaíso en Chile?",
            "no he podido encontrar la respuesta en nuestros artículos de ayuda, que están "
            "escritos "
            "en Inglés",
        ),
        (
            "Wie viele Einwohner hat die Stadt Graz in Österreich?",
            "Das weiß ich leider nicht: In unseren Hilfeartikeln, die auf Englisch geschrieben "
            "sind, habe ich keine Antwort darauf gefunden",
        ),
    ],
)
async def test_an_unanswerable_question_gets_dont_know_and_a_person_in_its_language(
    demo_help_center, question, in_language
):
    """The help center is English: the reply says so, in the customer's language."""
    workspace = demo_help_center.workspace

    answer = await one_question(workspace.public_key, question)

    reply = await last_reply(workspace)
    assert reply.outcome == Message.Outcome.DONT_KNOW
    assert in_language in reply.text and in_language in answer.text
    assert any(person in reply.text for person in ("una persona", "einer Person"))


async def test_a_refusal_in_french_is_in_french(demo_help_center):
    workspace = demo_help_center.workspace
    await database_sync_to_async(PolicyVersionFactory)(
        workspace=workspace,
        topics_in_scope="orders\nbikes",
        topics_refused="Politique: pour qui devrais-je voter; que pensez-vous des élections",
    )

    answer = await one_question(
        workspace.public_key, "Pour qui devrais-je voter aux prochaines élections ?"
    )

    reply = await last_reply(workspace)
    assert reply.outcome == Message.Outcome.REFUSED
    assert reply.text.startswith("Je ne peux répondre qu'aux questions sur Trailhead Cycles")
    assert "Trailhead Cycles" in answer.text


async def test_an_english_question_still_gets_english(demo_help_center):
    workspace = demo_help_center.workspace

    await one_question(workspace.public_key, "Do you sell unicycles?")

    reply = await last_reply(workspace)
    assert reply.outcome == Message.Outcome.DONT_KNOW
    assert reply.text.startswith("I'm sorry, I couldn't find the answer")


async def test_the_redaction_notice_the_handoff_and_the_queue_status_are_in_the_customers_language(
    demo_help_center,
):
    workspace = demo_help_center.workspace
    chat = ChatClient(workspace.public_key)
    assert await chat.connect()
    await chat.hello()

    await chat.send(
        {
            "type": "ask",
            "message": "Hola, mi correo es ana.lopez@example.com y quiero hablar con "
            "una persona de vuestro equipo, por favor.",
        }
    )
    await chat.until("he quitado los datos personales")
    await chat.send({"type": "handoff"})
    # Where they stand is said in Spanish too: nobody is online, so they may leave an e-mail.
    expected = {"Te paso con una persona de nuestro equipo", "Ahora mismo no hay nadie"}
    while expected:
        frame = visible_text(await chat.receive())
        expected = {text for text in expected if text not in frame}
    await chat.send({"type": "ticket", "email": "ana@example.com"})
    status = await chat.until("podrá escribirte a")
    assert "ana@example.com" in status
    await chat.close()


async def test_a_message_over_the_limit_is_told_so_in_its_language(demo_help_center, settings):
    settings.KEEL_MAX_MESSAGE_CHARS = 40
    chat = ChatClient(demo_help_center.workspace.public_key)
    assert await chat.connect()
    await chat.hello()

    await chat.send(
        {"type": "ask", "message": "Vorrei sapere quanto costa la spedizione di una bicicletta."}
    )

    await chat.until("Il tuo messaggio è lungo 59 caratteri; il limite è 40.")
    await chat.close()


# An English help center with one longer Spanish page: a French question's nearest
# passages are the Spanish page's.
ENGLISH_PAGES = {
    "delivery.md": "# Delivery\n\nParcels reach most addresses within three working days.\n",
    "refunds.md": "# Refunds\n\nWe refund returned items within ten working days.\n",
    "warranty.md": "# Warranty\n\nFrames are covered for five years against defects.\n",
    "sizes.md": "# Sizes\n\nChoose a frame by your height; our size chart lists each model.\n",
    "repairs.md": "# Repairs\n\nOur workshop services any bike, booked online.\n",
}
SPANISH_PAGE = """# Ayuda en español

## Tiendas
Nuestras tiendas abren de lunes a sábado, de 9 a 19 horas, y cierran los domingos.

## Pedidos
Puedes seguir tu pedido en tu cuenta, en la sección de pedidos recientes.

## Pagos
Aceptamos tarjetas de crédito, transferencias y pagos a plazos sin intereses.

## Contacto
Nuestro equipo responde a los mensajes de la comunidad en un día laborable.
"""


async def test_dont_know_names_the_language_most_articles_are_in(tmp_path, transactional_db):
    """Not the language of the passages found: here the one Spanish page."""
    knowledge_base = await database_sync_to_async(KnowledgeBaseFactory)()
    for name, text in {**ENGLISH_PAGES, "ayuda.md": SPANISH_PAGE}.items():
        (tmp_path / name).write_text(text)
    await database_sync_to_async(ingest)(tmp_path, knowledge_base)
    workspace = await database_sync_to_async(lambda: knowledge_base.workspace)()

    await one_question(
        workspace.public_key, "Quelle est la population de la ville de Lyon en France ?"
    )

    reply = await last_reply(workspace)
    assert reply.outcome == Message.Outcome.DONT_KNOW
    assert "qui sont rédigés en Anglais" in reply.text
