"""The policy editor for admins: edit a draft, try it in a sandbox chat, check it against
the test cases, publish it, and restore any earlier version."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from assistant.answering.sandbox import sandbox_question_ask, sandbox_start
from assistant.common.access import admin_required
from assistant.conversations.selectors import (
    conversation_messages,
    policy_check_latest,
    policy_check_results,
    policy_draft,
    policy_in_force,
    policy_version,
    policy_versions,
    sandbox_conversation,
)
from assistant.evaluation.policy_checks import OWN_QUESTION
from assistant.models import PolicyCheck, PolicyVersion
from assistant.policies.forms import PolicyForm, PublishForm, SandboxQuestionForm
from assistant.policies.services import (
    PublishRefused,
    policy_changes,
    policy_check_start,
    policy_draft_save,
    policy_publish,
    policy_restore,
)
from assistant.rails.intents import INTENTS, ORDINARY_QUESTIONS
from assistant.rails.not_support import NOT_SUPPORT_TOPICS
from assistant.rails.policy_rules import policy_fingerprint


@require_GET
@admin_required
def policy_page(request):
    draft = policy_draft(workspace_id=request.workspace.pk)
    editing = draft or policy_in_force(workspace_id=request.workspace.pk)
    return render(
        request,
        "policy/page.html",
        {
            "form": PolicyForm(instance=editing),
            **_draft_context(request.workspace, draft),
            **_check_context(draft),
            **_sandbox_context(request),
            **_versions_context(request.workspace),
        },
    )


@require_POST
@admin_required
def draft_save(request):
    draft = policy_draft(workspace_id=request.workspace.pk)
    editing = draft or policy_in_force(workspace_id=request.workspace.pk)
    form = PolicyForm(request.POST, instance=editing)
    saved = form.is_valid()
    if saved:
        draft = policy_draft_save(
            workspace=request.workspace, content=form.cleaned_data, actor=request.user
        )
        form = PolicyForm(instance=draft)
    response = render(
        request,
        "policy/_editor.html",
        {"form": form, "saved": saved, **_draft_context(request.workspace, draft)},
    )
    if saved:  # the check shown may now be out of date
        response.headers["HX-Trigger"] = "policy-draft-saved"
    return response


@require_POST
@admin_required
def draft_summary(request):
    """What the editor's form, as the admin has it now, changes from the version in force:
    read before saving. A field with a problem counts as unchanged until it is fixed."""
    in_force = policy_in_force(workspace_id=request.workspace.pk)
    form = PolicyForm(request.POST)
    unreadable = [form[name].label for name in form.errors if name in form.fields]
    proposed = PolicyVersion(**{**in_force.content(), **form.cleaned_data})  # the valid fields
    return render(
        request,
        "policy/_summary.html",
        {
            "in_force": in_force,
            "changes": policy_changes(old=in_force, new=proposed),
            "unreadable": unreadable,
        },
    )


@require_POST
@admin_required
def sandbox_ask(request):
    form = SandboxQuestionForm(request.POST)
    if form.is_valid():
        sandbox_question_ask(
            workspace=request.workspace, user=request.user, text=form.cleaned_data["message"]
        )
        form = SandboxQuestionForm()
    return render(request, "policy/_sandbox.html", {**_sandbox_context(request), "ask_form": form})


@require_POST
@admin_required
def sandbox_clear(request):
    sandbox_start(workspace=request.workspace, user=request.user)
    return render(request, "policy/_sandbox.html", _sandbox_context(request))


@require_POST
@admin_required
def check_start(request):
    try:
        policy_check_start(workspace=request.workspace, actor=request.user)
    except PublishRefused as refusal:
        return render(request, "policy/_check.html", {"problem": str(refusal)})
    return _check_partial(request)


@require_GET
@admin_required
def check_status(request):
    return _check_partial(request)


@require_POST
@admin_required
def publish(request):
    form = PublishForm(request.POST)
    problem = ""
    if form.is_valid():
        try:
            published = policy_publish(
                workspace=request.workspace,
                actor=request.user,
                override_reason=form.cleaned_data["override_reason"],
            )
        except PublishRefused as refusal:
            problem = str(refusal)
        else:
            return _published(request, message=f"Version {published.number} is now in force.")
    else:
        problem = "; ".join(message for errors in form.errors.values() for message in errors)
    draft = policy_draft(workspace_id=request.workspace.pk)
    return render(
        request, "policy/_check.html", {**_check_context(draft), "problem": problem, "form": form}
    )


@require_POST
@admin_required
def restore(request, number: int):
    version = policy_version(workspace=request.workspace, number=number)
    if version is None:
        raise Http404("No such policy version.")
    restored = policy_restore(version=version, actor=request.user)
    return _published(
        request,
        message=f"Version {number} restored: it is now in force as version {restored.number}.",
    )


def _published(request, *, message: str):
    """The version in force changed: the whole page is out of date, so reload it."""
    messages.success(request, message)
    url = reverse("policy", args=[request.workspace.slug])
    return HttpResponse(headers={"HX-Redirect": url}) if request.htmx else redirect(url)


def _check_partial(request):
    draft = policy_draft(workspace_id=request.workspace.pk)
    return render(request, "policy/_check.html", {**_check_context(draft), "form": PublishForm()})


def _draft_context(workspace, draft) -> dict:
    in_force = policy_in_force(workspace_id=workspace.pk)
    return {
        "draft": draft,
        "in_force": in_force,
        "draft_changes": policy_changes(old=in_force, new=draft) if draft else [],
        "builtin_rules": INTENTS,
        "builtin_topics": NOT_SUPPORT_TOPICS,
        "ordinary_questions": ORDINARY_QUESTIONS,
    }


def _check_context(draft) -> dict:
    check = policy_check_latest(policy=draft) if draft else None
    if check is None:
        return {"draft": draft, "check": None}
    results = list(policy_check_results(policy_check=check))
    own = [result for result in results if result.category == OWN_QUESTION]
    return {
        "draft": draft,
        "check": check,
        "results": results,
        "done": len(results),
        "running": check.status in (PolicyCheck.Status.QUEUED, PolicyCheck.Status.RUNNING),
        "stale": check.fingerprint != policy_fingerprint(draft),
        "failed": [result for result in results if not result.passed],
        "failed_cases": [r for r in results if not r.passed and r.category != OWN_QUESTION],
        "own_questions": own,
        "own_failed": [result for result in own if not result.passed],
        "critical_failed": [result for result in results if result.critical and not result.passed],
    }


def _sandbox_context(request) -> dict:
    conversation = sandbox_conversation(workspace=request.workspace, user=request.user)
    shown = conversation_messages(conversation_id=conversation.pk) if conversation else []
    return {"sandbox_messages": shown, "ask_form": SandboxQuestionForm()}


def _versions_context(workspace) -> dict:
    """Published versions, newest first, each with what it changed (the first: from the
    defaults)."""
    versions = list(policy_versions(workspace=workspace))
    older = [*versions[1:], PolicyVersion(workspace=workspace)]
    return {
        "versions": [
            {"version": version, "changes": policy_changes(old=before, new=version)}
            for version, before in zip(versions, older[: len(versions)], strict=True)
        ]
    }
