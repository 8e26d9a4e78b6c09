"""The audit trail as people read it: one sentence per event, and a link to what it is
about (the answer or conversation, the document). The detail's raw JSON stays in the
exports; events stored before a key existed read with the words they have."""

from dataclasses import dataclass

from django.urls import reverse

from assistant.models import AuditEvent, Conversation, Membership, Message
from knowledge.models import Document

Kind = AuditEvent.Kind
STATES = dict(Conversation.State.choices)
ROLES = {role: label.lower() for role, label in Membership.Role.choices}


@dataclass(frozen=True)
class AuditLine:
    event: AuditEvent
    sentence: str
    link_url: str = ""
    link_label: str = ""


def audit_lines(*, events: list[AuditEvent], workspace_slug: str) -> list[AuditLine]:
    """`events` (a page of them) as sentences with their links, in their order."""
    documents = Document.objects.filter(
        pk__in={pk for event in events if (pk := _document_id(event))},
        knowledge_base__workspace_id__in={event.workspace_id for event in events},
    ).select_related("knowledge_base")
    by_id = {document.pk: document for document in documents}
    return [
        AuditLine(event, _sentence(event), *_link(event, by_id=by_id, slug=workspace_slug))
        for event in events
    ]


def _document_id(event: AuditEvent) -> int | None:
    if event.kind == Kind.DOCUMENT:
        return event.detail.get("document")
    if event.kind in (Kind.QUARANTINE, Kind.RELEASE):
        return event.detail.get("document_id")
    return None


def _link(event: AuditEvent, *, by_id: dict[int, Document], slug: str) -> tuple[str, str]:
    """An answer's "why" page, else the conversation in the console (never a sandbox's:
    the console does not list them), else the document's page."""
    message = event.message
    if message is not None and message.role == Message.Role.ASSISTANT:
        return reverse("answer", args=[slug, message.pk]), "The answer"
    if event.conversation_id and not event.conversation.sandbox:
        url = reverse("console_conversation", args=[slug, event.conversation_id])
        return url, f"Conversation {event.conversation_id}"
    if document := by_id.get(_document_id(event)):
        url = reverse("document", args=[slug, document.knowledge_base.slug, document.pk])
        return url, document.title
    return "", ""


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _listed(values) -> str:
    return ", ".join(str(value) for value in values) or "nothing"


def _sentence(event: AuditEvent) -> str:
    detail = event.detail if isinstance(event.detail, dict) else {}
    get = detail.get
    match event.kind:
        case Kind.REDACTION:
            kinds = get("kinds", [])
            which = f" ({_listed(kinds)})" if kinds else ""
            return f"Personal data{which} in a message replaced by placeholders."
        case Kind.INJECTION:
            score = get("score")
            scored = f" scored {score:.2f}" if isinstance(score, int | float) else ""
            action = get("action")
            outcome = f"; it was {action}" if action else ""
            return f"A message{scored} as an attempt to instruct the assistant{outcome}."
        case Kind.GROUNDING:
            return "A sentence its sources did not support was removed from an answer."
        case Kind.OUTPUT:
            rails = _listed(sorted({verdict.get("rail") for verdict in get("rails", [])}))
            return f"A sentence was removed from an answer by an output rail ({rails})."
        case Kind.QUARANTINE:
            held = get("chunks", [])
            why = f": {held[0].get('why')}" if held else ""
            title = get("document", "a document")
            return f"{_count(len(held), 'passage')} of “{title}” held in quarantine{why}."
        case Kind.RELEASE:
            return "A quarantined passage was released: it is searched again."
        case Kind.REFUSED_TOPIC:
            return f"A question was refused as “{get('rule', 'a refused topic')}”."
        case Kind.ESCALATION_FLAG:
            return f"A message matched the escalation rule “{get('rule', 'a rule')}”."
        case Kind.POLICY_DRAFT:
            changed = get("changed", [])
            if not changed:
                return "The policy draft was saved unchanged."
            return f"The policy draft was saved, changing {_listed(changed)}."
        case Kind.POLICY_CHECK:
            critical = len(get("critical_failures", []))
            return (
                f"The policy draft was checked: {get('passed', 0)} cases passed, "
                f"{get('failed', 0)} failed ({critical} critical)."
            )
        case Kind.POLICY_PUBLISH:
            return f"Policy version {get('version', '?')} was published."
        case Kind.POLICY_OVERRIDE:
            failing = _count(len(get("critical_failures", [])), "failing critical case")
            return (
                f"Version {get('version', '?')} was published over {failing}: "
                f"“{get('reason', '')}”."
            )
        case Kind.POLICY_RESTORE:
            return (
                f"Version {get('restored_from', '?')} was put back in force "
                f"as version {get('version', '?')}."
            )
        case Kind.HANDOFF:
            before = STATES.get(get("from"), get("from"))
            after = STATES.get(get("to"), get("to"))
            return f"The conversation went from “{before}” to “{after}”."
        case Kind.VAULT_READ:
            return f"{_count(len(get('placeholders', [])), 'piece')} of personal data read."
        case Kind.GAP_ARTICLE:
            questions = _count(get("questions", 0), "question")
            return f"Article “{get('document', '')}” written for {questions} of a content gap."
        case Kind.WEBSITE_ADDED | Kind.WEBSITE_REMOVED | Kind.WEBSITE_SYNCED:
            done = {Kind.WEBSITE_ADDED: "added", Kind.WEBSITE_REMOVED: "removed"}
            error = f": {get('error')}" if get("error") else ""
            return f"Website {get('url', '')} {done.get(event.kind, 'synced')}{error}."
        case Kind.TEST_CASE:
            cases = get("cases", [])
            number = cases if isinstance(cases, int) else len(cases)
            return f"Test cases: {get('action', 'changed')}, {_count(number, 'case')}."
        case Kind.DOCUMENT:
            action = str(get("action", "changed")).replace("_", " ")
            return f"Document “{get('source', '')}”: {action}."
        case Kind.WIDGET_SETTINGS:
            return f"The widget settings were changed: {_listed(get('changed', []))}."
        case Kind.IDENTITY_SECRET:
            return "The identity secret was rotated: identities signed with the old one fail."
        case Kind.WORKSPACE_CREATED:
            return f"The workspace “{get('name', '')}” was created."
        case Kind.INVITATION:
            role = f" as {ROLES[get('role')]}" if get("role") in ROLES else ""
            return f"Invitation of {get('email', 'a person')}{role}: {get('action', 'changed')}."
        case Kind.MEMBER:
            return _member_sentence(detail)
    return event.get_kind_display() + "."


def _member_sentence(detail: dict) -> str:
    email = detail.get("email") or "A member"
    role, before, after = (ROLES.get(detail.get(key), "") for key in ("role", "from", "to"))
    match detail.get("action"):
        case "joined":
            return f"{email} joined as {role}."
        case "role_changed":
            return f"{email} went from {before} to {after}."
        case "removed":
            return f"{email} ({role}) was removed from the workspace."
        case "password_reset":
            return f"{email} set a new password through the e-mailed link."
    return f"{email}: changed."
