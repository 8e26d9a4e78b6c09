"""Evaluation for admins: start a run of the test cases in the background, follow it,
read its report beside the run before, export it; and keep the test cases themselves."""

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assistant.common.access import admin_required
from assistant.evaluation.cases import (
    EvalCaseForm,
    case_save,
    cases_export,
    cases_import,
    eval_case_delete,
)
from assistant.evaluation.forms import CasesImportForm, EvaluationStartForm
from assistant.evaluation.judge import judge_backend
from assistant.evaluation.selectors import (
    eval_case_of,
    eval_cases,
    evaluation_report,
    evaluation_run_of,
    evaluation_runs,
    report_json,
)
from assistant.evaluation.services import evaluation_queue
from assistant.models import EvalCase, EvalRun

RUNS_LISTED = 30


@require_GET
@admin_required
def evaluation_page(request):
    return render(request, "evaluation/page.html", _page_context(request, _start_form()))


@require_GET
@admin_required
def runs_table(request):
    return render(request, "evaluation/_runs.html", _runs_context(request))


@require_POST
@admin_required
def run_start(request):
    form = _start_form(request.POST)
    if not form.is_valid():
        return render(request, "evaluation/page.html", _page_context(request, form), status=400)
    run = evaluation_queue(
        workspace=request.workspace,
        suite=form.cleaned_data["suite"],
        draft=form.cleaned_data["policy"] == "draft",
        judged=form.cleaned_data.get("judged", False),
        actor=request.user,
    )
    return redirect("evaluation_run", request.workspace.slug, run.pk)


@require_GET
@admin_required
def run_page(request, run_id: int):
    run = _run(request, run_id)
    if _running(run):
        return render(request, "evaluation/run.html", _progress_context(run))
    return render(
        request, "evaluation/run.html", {"run": run, "report": evaluation_report(run=run)}
    )


@require_GET
@admin_required
def run_progress(request, run_id: int):
    run = _run(request, run_id)
    if not _running(run):  # the report replaces the progress bar
        return HttpResponse(headers={"HX-Refresh": "true"})
    return render(request, "evaluation/_progress.html", _progress_context(run))


@require_GET
@admin_required
def run_json(request, run_id: int):
    report = evaluation_report(run=_run(request, run_id))
    return JsonResponse(
        report_json(report),
        json_dumps_params={"indent": 2, "ensure_ascii": False},
        headers={"Content-Disposition": f'attachment; filename="evaluation-{run_id}.json"'},
    )


@require_GET
@admin_required
def cases_page(request):
    return render(
        request,
        "evaluation/cases.html",
        {"form": EvalCaseForm(), "import_form": CasesImportForm(), **_cases_context(request)},
    )


@require_POST
@admin_required
def case_add(request):
    form = EvalCaseForm(request.POST)
    added = form.is_valid()
    if added:
        case = form.save(commit=False)
        case.workspace = request.workspace
        case_save(case=case, actor=request.user)
        form = EvalCaseForm()
    return render(
        request, "evaluation/_cases.html", {"form": form, "added": added, **_cases_context(request)}
    )


@require_http_methods(["GET", "POST"])
@admin_required
def case_edit(request, case_id: int):
    case = _case(request, case_id)
    # Ids of its own: the add form is on the same page, and each label must find its field.
    auto_id = f"case-{case.pk}-%s"
    if request.method == "GET":
        form = EvalCaseForm(instance=case, auto_id=auto_id)
        return render(request, "evaluation/_case_edit.html", {"case": case, "form": form})
    form = EvalCaseForm(request.POST, instance=case, auto_id=auto_id)
    if not form.is_valid():
        return render(request, "evaluation/_case_edit.html", {"case": case, "form": form})
    case = case_save(case=form.save(commit=False), actor=request.user)
    return render(request, "evaluation/_case_row.html", {"case": case})


@require_GET
@admin_required
def case_row(request, case_id: int):
    """The row again, when an edit is cancelled."""
    return render(request, "evaluation/_case_row.html", {"case": _case(request, case_id)})


@require_POST
@admin_required
def case_delete(request, case_id: int):
    eval_case_delete(case=_case(request, case_id), actor=request.user)
    return HttpResponse("")


@require_POST
@admin_required
def cases_import_request(request):
    form = CasesImportForm(request.POST, request.FILES)
    imported = None
    if form.is_valid():
        imported = cases_import(
            workspace=request.workspace, text=form.cleaned_data["file"], actor=request.user
        )
        if not imported.problems:
            form = CasesImportForm()
    return render(
        request,
        "evaluation/cases.html",
        {"form": EvalCaseForm(), "import_form": form, "imported": imported}
        | _cases_context(request),
        status=400 if imported is None or imported.problems else 200,
    )


@require_GET
@admin_required
def cases_export_request(request):
    return HttpResponse(
        cases_export(workspace=request.workspace),
        content_type="application/jsonl; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{request.workspace.slug}-cases.jsonl"'
        },
    )


def _start_form(data=None) -> EvaluationStartForm:
    form = EvaluationStartForm(data)
    if judge_backend() is None:  # no LLM to judge with
        del form.fields["judged"]
    return form


def _page_context(request, start_form: EvaluationStartForm) -> dict:
    return {
        "start_form": start_form,
        "case_count": eval_cases(workspace_id=request.workspace.pk).count(),
        **_runs_context(request),
    }


def _runs_context(request) -> dict:
    runs = list(evaluation_runs(workspace_id=request.workspace.pk)[:RUNS_LISTED])
    return {"runs": runs, "any_running": any(_running(run) for run in runs)}


def _progress_context(run: EvalRun) -> dict:
    return {"run": run, "done": run.results.count()}


def _running(run: EvalRun) -> bool:
    return run.status in (EvalRun.Status.QUEUED, EvalRun.Status.RUNNING)


def _run(request, run_id: int) -> EvalRun:
    run = evaluation_run_of(workspace_id=request.workspace.pk, run_id=run_id)
    if run is None:
        raise Http404("No such evaluation run in this workspace.")
    return run


def _cases_context(request) -> dict:
    return {"cases": eval_cases(workspace_id=request.workspace.pk)}


def _case(request, case_id: int) -> EvalCase:
    case = eval_case_of(workspace_id=request.workspace.pk, case_id=case_id)
    if case is None:
        raise Http404("No such test case in this workspace.")
    return case
