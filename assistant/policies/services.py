"""Writes for policies: save the draft, check it, publish it, restore an earlier version.

Published versions are never edited: publishing gives the draft the next number (its
checks stay with it), and restoring publishes a copy of an earlier version. Each step is
audited with who took it.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils.choices import flatten_choices

from assistant.common.audit import workspace_audit
from assistant.conversations.selectors import policy_check_latest, policy_draft, policy_in_force
from assistant.evaluation import policy_checks
from assistant.models import AuditEvent, PolicyCheck, PolicyVersion, Workspace
from assistant.policies.forms import PolicyForm
from assistant.rails.policy_rules import policy_diff, policy_fingerprint
from assistant.tasks import policy_check_job


class PublishRefused(Exception):
    """The draft may not be published yet; the message says why, for the admin."""


def policy_labels() -> dict[str, str]:
    return {
        name: str(PolicyVersion._meta.get_field(name).verbose_name).capitalize()
        for name in PolicyVersion.CONTENT_FIELDS
    }


def policy_changes(*, old: PolicyVersion, new: PolicyVersion):
    """What `new` changes from `old`, field by field, with each chosen option named as the
    editor names it ("Card security codes (CVV, CVC)", not its stored key)."""
    return policy_diff(
        old=_options_named(old.content()), new=_options_named(new.content()), labels=policy_labels()
    )


def _options_named(content: dict) -> dict:
    named = {}
    for name, value in content.items():
        options = dict(flatten_choices(getattr(PolicyForm.base_fields[name], "choices", ())))
        if isinstance(value, list):
            named[name] = [options.get(item, item) for item in value]
        else:
            named[name] = options.get(value, value)
    return named


def policy_draft_save(
    *, workspace: Workspace, content: dict, actor: AbstractBaseUser
) -> PolicyVersion:
    """The workspace's draft with `content`; started from the version in force if none.
    Two first saves at once take turns: otherwise both would create a draft, and one
    would fail on the one-draft constraint."""
    with transaction.atomic():
        _policies_locked(workspace)
        draft = policy_draft(workspace_id=workspace.pk)
        if draft is None:
            draft = PolicyVersion(
                workspace=workspace, **policy_in_force(workspace_id=workspace.pk).content()
            )
        before = PolicyVersion(**draft.content())
        for name, value in content.items():
            setattr(draft, name, value)
        draft.author = actor
        draft.save()
        workspace_audit(
            workspace_id=workspace.pk,
            kind=AuditEvent.Kind.POLICY_DRAFT,
            actor=actor,
            detail={"changed": [change.field for change in policy_changes(old=before, new=draft)]},
        )
    return draft


def policy_check_start(*, workspace: Workspace, actor: AbstractBaseUser) -> PolicyCheck:
    """A check of the workspace's draft, queued for a worker once it commits."""
    with transaction.atomic():
        draft = policy_draft(workspace_id=workspace.pk)
        if draft is None:
            raise PublishRefused("Save a draft first: there is nothing to check.")
        check = PolicyCheck.objects.create(
            policy=draft,
            fingerprint=policy_fingerprint(draft),
            started_by=actor,
            case_count=len(policy_checks.check_cases(workspace_id=workspace.pk)),
        )
        transaction.on_commit(lambda: policy_check_job.defer(check_id=check.pk))
    return check


def policy_publish(
    *, workspace: Workspace, actor: AbstractBaseUser, override_reason: str = ""
) -> PolicyVersion:
    """The draft, published as the next version, once a check of exactly this draft has
    finished; failing critical cases need a written reason, kept with the version."""
    with transaction.atomic():
        draft = policy_draft(workspace_id=workspace.pk)
        if draft is None:
            raise PublishRefused("There is no draft to publish.")
        check = policy_check_latest(policy=draft)
        if check is None or check.fingerprint != policy_fingerprint(draft):
            raise PublishRefused("Run the checks on this draft before publishing it.")
        if check.status != PolicyCheck.Status.FINISHED:
            raise PublishRefused("Wait for the checks to finish before publishing.")
        failing = list(
            check.results.filter(critical=True, passed=False).values_list("case_id", flat=True)
        )
        reason = override_reason.strip()
        if failing and not reason:
            raise PublishRefused(
                f"{len(failing)} critical case(s) fail. Fix the draft, or write why it "
                "should be published anyway."
            )
        draft.number = _next_number(workspace)
        draft.author = actor
        draft.override_reason = reason if failing else ""
        draft.save()
        _name_in_force(workspace, draft)
        workspace_audit(
            workspace_id=workspace.pk,
            kind=AuditEvent.Kind.POLICY_PUBLISH,
            actor=actor,
            detail={"version": draft.number, "check": check.pk, "critical_failures": failing},
        )
        if failing:
            workspace_audit(
                workspace_id=workspace.pk,
                kind=AuditEvent.Kind.POLICY_OVERRIDE,
                actor=actor,
                detail={"version": draft.number, "reason": reason, "critical_failures": failing},
            )
    return draft


def policy_restore(*, version: PolicyVersion, actor: AbstractBaseUser) -> PolicyVersion:
    """A copy of an earlier version, published as the newest: one click, fully recorded."""
    workspace = version.workspace
    with transaction.atomic():
        restored = PolicyVersion.objects.create(
            workspace=workspace,
            number=_next_number(workspace),
            author=actor,
            restored_from=version.number,
            **version.content(),
        )
        _name_in_force(workspace, restored)
        workspace_audit(
            workspace_id=workspace.pk,
            kind=AuditEvent.Kind.POLICY_RESTORE,
            actor=actor,
            detail={"version": restored.number, "restored_from": version.number},
        )
    return restored


def _policies_locked(workspace: Workspace) -> None:
    """Call inside a transaction: the workspace's policy writes take turns on its row
    until it commits; the unique constraints back this."""
    Workspace.objects.select_for_update().get(pk=workspace.pk)


def _next_number(workspace: Workspace) -> int:
    _policies_locked(workspace)  # two admins publishing at once
    highest = PolicyVersion.objects.filter(workspace=workspace).aggregate(Max("number"))
    return (highest["number__max"] or 0) + 1


def _name_in_force(workspace: Workspace, policy: PolicyVersion) -> None:
    Workspace.objects.filter(pk=workspace.pk).update(assistant_name=policy.assistant_name)
    workspace.assistant_name = policy.assistant_name
