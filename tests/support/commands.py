"""Management commands as the tests run them: real command, captured output."""

from io import StringIO

from django.core.management import call_command


def ingest(path, knowledge_base, *extra) -> str:
    """`manage.py ingest PATH --workspace … --kb …`; what it printed (progress bar aside)."""
    out = StringIO()
    call_command(
        "ingest",
        str(path),
        "--workspace",
        knowledge_base.workspace.slug,
        "--kb",
        knowledge_base.slug,
        *extra,
        stdout=out,
        stderr=StringIO(),
    )
    return out.getvalue()
