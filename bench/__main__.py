"""`make bench`: ingestion speed, retrieval quality, search and answer latency.

SciFact (BEIR) is read in place from the shared data folder and goes through the real
pipeline into a database of its own (`keel_bench`), so the demo's data is never touched.
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

import django
from django.core.management import call_command

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    """Point Django at the bench's own database and media folder, then set it up."""
    keel_home = Path(os.environ.get("KEEL_HOME", PROJECT_ROOT / ".keel"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.project.settings")
    # As production runs: with DEBUG on, Django also records every query it sends.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "b3nch" * 8)
    # The bench's uploaded abstracts live apart from the demo's files, as the tests' do.
    os.environ.setdefault("MEDIA_ROOT", str(keel_home / "bench-media"))
    if not os.environ.get("DATABASE_URL"):
        from assistant.project.embedded_db import embedded_database_url

        os.environ["DATABASE_URL"] = embedded_database_url(
            data_dir=keel_home / "pgdata", database="keel_bench"
        )
    django.setup()
    call_command("migrate", verbosity=0)


def main() -> None:
    """`python -m bench [knowledge] [answers] [rails] [quarantine] [scale]`: the named
    sections, or all of them (`scale` then at 10k chunks only; named, at 10k and 100k).
    `python -m bench acceptance KIT_DIR`: a company's acceptance kit, on its own.
    `python -m bench doc2dial [--limit N] [--keep]`: doc2dial's first turns, on their own.
    `python -m bench answerability [DATA_DIR]`: the answerability judgement refitted on
    doc2dial, its weights printed."""
    sections = sys.argv[1:]
    if sections[:1] == ["acceptance"]:
        acceptance_main(arguments=sections[1:])
        return
    if sections[:1] == ["doc2dial"]:
        doc2dial_main(arguments=sections[1:])
        return
    if sections[:1] == ["answerability"]:
        django_setup()
        from bench.answerability import DATA_DIR, answerability_fit, demo_check

        answerability_fit(data=Path(sections[1]) if sections[1:] else DATA_DIR)
        demo_check(project_root=PROJECT_ROOT)
        return
    started = time.perf_counter()
    load_before = os.getloadavg()
    django_setup()
    # These import models, so they can only come once Django is set up.
    from bench.measurements import SECTIONS, benchmark_run
    from bench.scale import SIZES, WHOLE_RUN_SIZES

    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"Unknown section(s) {sorted(unknown)}; choose from {SECTIONS}.")
    from bench.report import machine_describe, results_table, results_write

    results = {
        "date": date.today().isoformat(),
        "machine": machine_describe(),
        **benchmark_run(
            project_root=PROJECT_ROOT,
            sections=sections or SECTIONS,
            scale_sizes=SIZES if sections else WHOLE_RUN_SIZES,
        ),
    }
    results["load_average_1min"] = {"before": load_before[0], "after": os.getloadavg()[0]}
    results["runtime_seconds"] = round(time.perf_counter() - started, 1)
    path = results_write(
        results=results, folder=Path(__file__).resolve().parent / "results", sections=sections
    )
    print()
    print(results_table(results=results))
    print(f"\nResults written to {path.relative_to(PROJECT_ROOT)}")


def acceptance_main(*, arguments: list[str]) -> None:
    if len(arguments) != 1 or not (Path(arguments[0]) / "kit.json").is_file():
        raise SystemExit("Usage: python -m bench acceptance KIT_DIR (a folder with kit.json).")
    django_setup()
    from bench.acceptance import acceptance_run

    folder = acceptance_run(kit=Path(arguments[0]).resolve())
    print(f"Results written to {folder.relative_to(PROJECT_ROOT)}")


def doc2dial_main(*, arguments: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench doc2dial")
    parser.add_argument(
        "--limit",
        type=int,
        help="a fixed sample of N first-turn questions, the same each run (default: all 660)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the ingested workspace for the next run, and reuse one a kept run left "
        "(run once without it before an acceptance run: its storage dump reads every table)",
    )
    options = parser.parse_args(arguments)
    if options.limit is not None and options.limit < 1:
        parser.error("--limit must be at least 1")
    django_setup()
    from bench.doc2dial import doc2dial_run
    from bench.measurements import shared_data_folder

    data = shared_data_folder(PROJECT_ROOT) / "support"
    if not (data / "docs.jsonl").is_file():
        parser.error(f"no doc2dial in {data} (KEEL_SHARED_DATA names the shared data folder)")

    folder = doc2dial_run(data=data, limit=options.limit, keep=options.keep)
    print(f"Results written to {folder.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
