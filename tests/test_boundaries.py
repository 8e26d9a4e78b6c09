"""Views and consumers stay thin: they parse, call one service or selector, and render.
Writes go through services (audited, after-commit pushes), so a page or socket that writes
a model itself is refused here, and by `make lint`."""

import ast
from pathlib import Path

import pytest

ASSISTANT = Path(__file__).resolve().parent.parent / "assistant"
MANAGER_WRITES = {
    "bulk_create",
    "bulk_update",
    "create",
    "delete",
    "get_or_create",
    "update",
    "update_or_create",
}


def _pages_and_sockets() -> list[Path]:
    names = {"views.py", "consumers.py", "home.py", "ops.py"}
    return sorted(
        path
        for path in ASSISTANT.rglob("*.py")
        if path.name in names or path.name.endswith("_views.py")
    )


def writes_in(source: str) -> list[str]:
    """Each model write the module makes itself: a manager's write, a model's save or
    delete (a form's save(commit=False) hands the instance to a service), a transaction."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and any(a.name == "transaction" for a in node.names):
            found.append(f"line {node.lineno}: imports transaction")
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        call = ast.unparse(node.func)
        manager_write = node.func.attr in MANAGER_WRITES and ".objects" in call
        model_write = node.func.attr in {"save", "delete"} and "form" not in call.lower()
        if manager_write or model_write:
            found.append(f"line {node.lineno}: {call}()")
    return found


def test_the_check_sees_a_write():
    source = (
        "from django.db import transaction\n"
        "def view(request):\n"
        "    Message.objects.filter(pk=1).update(text='x')\n"
        "    note.save()\n"
        "    case = form.save(commit=False)\n"
    )
    assert writes_in(source) == [
        "line 1: imports transaction",
        "line 3: Message.objects.filter(pk=1).update()",
        "line 4: note.save()",
    ]


@pytest.mark.parametrize("path", _pages_and_sockets(), ids=lambda path: path.stem)
def test_pages_and_sockets_write_only_through_services(path):
    assert writes_in(path.read_text()) == []
