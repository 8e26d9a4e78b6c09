"""The agent console: the live queue, a conversation with its handoff packet, and the
actions on it (claim, reply, note, hand back, resolve, read the vault). Live updates come
over the console socket (`console.consumers.AgentConsumer`); these views render the same partials.
"""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from assistant.common.access import staff_required
from assistant.console.forms import ConsoleListForm, NoteForm, ReplyForm
from assistant.console.selectors import customer_other_conversations
from assistant.console.services import read_marker_update
from assistant.conversations.console_rows import Show, console_rows, customer_name
from assistant.conversations.partials import conversation_status_context, queue_context
from assistant.conversations.selectors import (
    conversation_for_staff,
    conversation_messages,
    conversation_notes,
    handoff_latest,
    handoff_open,
    membership_first,
    message_in_conversation,
)
from assistant.conversations.vault import VaultRefused, vault_read
from assistant.evaluation.cases import case_from_turn
from assistant.handoffs.transitions import (
    IllegalTransition,
    NotAllowed,
    handoff_claim,
    handoff_hand_back,
    handoff_resolve,
    note_add,
)
from assistant.models import Message
from assistant.tickets.selectors import notification_preference
from assistant.tickets.services import ticket_agent_reply


@require_GET
def console_home(request):
    """`/console/`: the queue of the first workspace the person works in."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    membership = membership_first(user=request.user)
    if membership is None:
        raise Http404("You are not on any workspace's team.")
    return redirect("console", workspace_slug=membership.workspace.slug)


@require_GET
@staff_required
def console(request):
    """The three-pane console with no conversation open; htmx asks for the list alone."""
    return _console_page(request, conversation=None)


@require_GET
@staff_required
def conversation(request, conversation_id: int):
    """The same page with the conversation open, so links and reloads land on it; showing
    it marks it read for this agent."""
    found = _conversation(request, conversation_id)
    read_marker_update(agent=request.user, conversation_id=found.pk)
    return _console_page(request, conversation=found)


def _console_page(request, *, conversation):
    form = ConsoleListForm(request.GET)
    show, text = form.filters()
    context = {
        "rows": console_rows(workspace=request.workspace, agent=request.user, show=show, text=text),
        "show": show,
        "shows": list(Show),
        "text": text,
        "open_id": conversation.pk if conversation else None,
    }
    if request.htmx:
        return render(request, "console/_list.html", context)
    if conversation is not None:
        context |= {
            **conversation_status_context(conversation=conversation),
            "transcript": conversation_messages(conversation_id=conversation.pk),
            "notes": conversation_notes(conversation_id=conversation.pk),
            "others": customer_other_conversations(conversation=conversation),
            "customer": customer_name(
                conversation=conversation, handoff=handoff_latest(conversation_id=conversation.pk)
            ),
        }
    preference = notification_preference(membership=request.membership)
    return render(
        request,
        "console/page.html",
        {
            **queue_context(workspace_id=request.workspace.pk),
            **context,
            "notify_after_minutes": preference.after_minutes if preference.in_browser else "",
        },
    )


@require_POST
@staff_required
def conversation_claim(request, conversation_id: int):
    return _act(
        request, conversation_id, lambda handoff: handoff_claim(handoff=handoff, agent=request.user)
    )


@require_POST
@staff_required
def conversation_reply(request, conversation_id: int):
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _status(request, conversation_id, problem=_first_error(form))
    return _act(
        request,
        conversation_id,
        lambda handoff: ticket_agent_reply(
            handoff=handoff, agent=request.user, text=form.cleaned_data["text"]
        ),
    )


@require_POST
@staff_required
def conversation_hand_back(request, conversation_id: int):
    return _act(
        request,
        conversation_id,
        lambda handoff: handoff_hand_back(handoff=handoff, agent=request.user),
    )


@require_POST
@staff_required
def conversation_resolve(request, conversation_id: int):
    return _act(
        request,
        conversation_id,
        lambda handoff: handoff_resolve(handoff=handoff, agent=request.user),
    )


@require_POST
@staff_required
def conversation_note(request, conversation_id: int):
    found = _conversation(request, conversation_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        note_add(conversation=found, author=request.user, text=form.cleaned_data["text"])
    return render(
        request,
        "console/_notes.html",
        {"conversation": found, "notes": conversation_notes(conversation_id=found.pk)},
    )


@require_POST
@staff_required
def conversation_vault_read(request, conversation_id: int):
    """The personal data the customer wrote, for the agent handling their handoff only;
    every reading is audited."""
    found = _conversation(request, conversation_id)
    try:
        values = vault_read(conversation=found, agent=request.user)
    except VaultRefused:
        return render(request, "console/_vault.html", {"refused": True})
    return render(request, "console/_vault.html", {"revealed": True, "values": values})


@require_POST
@staff_required
def turn_save_as_case(request, conversation_id: int, message_id: int):
    """One click in the transcript: the question becomes a test case of the workspace."""
    found = _conversation(request, conversation_id)
    question = message_in_conversation(conversation_id=found.pk, message_id=message_id)
    if question is None or question.role != Message.Role.CUSTOMER:
        raise Http404("No such question in this conversation.")
    case = case_from_turn(question=question, actor=request.user)
    return render(request, "console/_case_saved.html", {"case": case})


def _conversation(request, conversation_id: int):
    found = conversation_for_staff(workspace=request.workspace, conversation_id=conversation_id)
    if found is None:
        raise Http404("No such conversation in this workspace.")
    return found


def _act(request, conversation_id: int, action):
    found = _conversation(request, conversation_id)
    handoff = handoff_open(conversation_id=found.pk)
    if handoff is None:
        return _status(request, conversation_id, problem="No one asked for a person here.")
    try:
        action(handoff)
    except IllegalTransition as refusal:
        return _status(request, conversation_id, problem=str(refusal))
    except NotAllowed as refusal:
        return _status(request, conversation_id, problem=str(refusal), status=403)
    return _status(request, conversation_id)


def _status(request, conversation_id: int, *, problem: str = "", status: int = 200):
    found = _conversation(request, conversation_id)
    return render(
        request,
        "console/_state.html",
        {**conversation_status_context(conversation=found), "problem": problem},
        status=status,
    )


def _first_error(form) -> str:
    return next(message for errors in form.errors.values() for message in errors)
