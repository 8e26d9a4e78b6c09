"""The bench's output: the machine it ran on, one fixed-width table, and a JSON file."""

import json
import os
import platform
import socket
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import django
import torch
from django.db import connection

LABEL_WIDTH = 38
# What search and index-build timings depend on, beyond the hardware.
POSTGRESQL_SETTINGS = ("shared_buffers", "work_mem", "maintenance_work_mem", "jit")
CELL_WIDTH = 10


def machine_describe() -> dict:
    """What the figures depend on, so runs on different machines can be compared."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgresql = cursor.fetchone()[0]
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        pgvector = cursor.fetchone()[0]
        cursor.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
            [list(POSTGRESQL_SETTINGS)],
        )
        settings = dict(cursor.fetchall())
    memory_kib = int(proc_field(path=Path("/proc/meminfo"), name="MemTotal").split()[0])
    return {
        "hostname": socket.gethostname(),
        "cpu": proc_field(path=Path("/proc/cpuinfo"), name="model name"),
        "logical_cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024**2, 1),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sentence_transformers": version("sentence-transformers"),
        "django": django.get_version(),
        "postgresql": postgresql,
        "postgresql_settings": settings,
        "pgvector": pgvector,
        "psycopg": version("psycopg"),
        "kernel": platform.release(),
    }


def proc_field(*, path: Path, name: str) -> str:
    """The first `name: value` line of a /proc file such as cpuinfo or meminfo."""
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return "unknown"


def results_write(*, results: dict, folder: Path, sections: Sequence[str]) -> Path:
    """`<date>-<host>.json` for a whole run; a partial run adds its sections to the name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = "-".join([results["date"], results["machine"]["hostname"], *sections])
    path = folder / f"{name}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path


def results_table(*, results: dict) -> str:
    machine = results["machine"]
    postgresql = " ".join(machine["postgresql"].split()[:2])
    lines = [
        f"Keel bench · {results['date']} · {machine['hostname']} · {machine['cpu']}, "
        f"{machine['logical_cores']} cores, {machine['memory_gib']} GiB · "
        f"{results['runtime_seconds'] / 60:.1f} min in all",
        f"{postgresql} · pgvector {machine['pgvector']} · torch {machine['torch']} "
        f"({machine['torch_threads']} threads) · Django {machine['django']} · "
        f"Python {machine['python']}",
    ]
    if "ingestion" in results:
        lines += knowledge_lines(results=results)
    if "answers" in results:
        lines += answer_lines(answers=results["answers"])
    if "personal_data" in results:
        lines += personal_data_lines(figures=results["personal_data"])
    if "injection" in results:
        lines += injection_lines(figures=results["injection"])
    if "policy_rules" in results:
        lines += policy_rules_lines(figures=results["policy_rules"])
    if "quarantine" in results:
        lines += quarantine_lines(figures=results["quarantine"])
    if "load" in results:
        lines += load_lines(figures=results["load"])
    if "scale" in results:
        lines += scale_lines(figures=results["scale"])
    return "\n".join(lines)


def load_lines(*, figures: dict) -> list[str]:
    method = figures["method"]
    lines = [
        "",
        row(
            label="Load: one server process, live sockets (ms)",
            cells=[
                "answers",
                "errors",
                "ans/s",
                "1st p50",
                "1st p95",
                "seen p95",
                "end p95",
                "MiB",
            ],
        ),
    ]
    for level in figures["levels"]:
        lines.append(
            row(
                label=f"  {level['customers']} customers",
                cells=[
                    str(level["answers"]),
                    str(level["errors"]),
                    f"{level['answers_per_second']:.1f}",
                    str(level["first_words_p50_ms_beyond_model"]),
                    str(level["first_words_p95_ms_beyond_model"]),
                    str(level["first_words_p95_ms_beyond_model_first_token"]),
                    str(level["answered_p95_ms_beyond_model"]),
                    str(level["server_memory_mib_peak"]),
                ],
                note=("within target" if level["within_target"] else "past the knee")
                + f"; {level['handed_to_a_person']} to a person",
            )
        )
    lines.append(
        "  (1st: first words beyond the test model's time to write them, a whole sentence;"
        f" seen: beyond its {method['model_first_token_ms']:.0f} ms to first token; end: beyond"
        f" its {method['model_stream_ms']:.0f} ms stream; {method['questions_per_customer']} "
        f"questions each, {method['think_seconds'][0]:.0f}-{method['think_seconds'][1]:.0f} s "
        f"apart; target: {figures['target']})"
    )
    return lines


def personal_data_lines(*, figures: dict) -> list[str]:
    lines = [
        "",
        row(
            label=f"Personal data: Presidio synthetic set, {figures['examples']:,} texts",
            cells=["spans", "found", "recall"],
        ),
    ]
    for entity, counts in figures["recall"].items():
        recall = counts["found"] / counts["spans"]
        sought = "" if counts["sought"] else " (not sought)"
        lines.append(
            row(
                label=f"  {entity}{sought}",
                cells=[str(counts["spans"]), str(counts["found"]), f"{recall:.3f}"],
            )
        )
    false_alarms = sum(figures["false_alarms_in_pii_set"].values())
    lines.append(
        f"  false alarms: {false_alarms} in the set, {figures['benign_questions_redacted']} of "
        f"{figures['benign_questions']} benign questions redacted · p50 {figures['p50_ms']} ms"
    )
    return lines


def ingestion_row(*, label: str, ingestion: dict, name: str) -> str:
    return row(
        label=label,
        cells=[
            f"{ingestion['chunks']:,}",
            f"{ingestion[f'{name}_seconds']:.1f}",
            f"{ingestion[f'{name}_chunks_per_second']:.2f}",
        ],
    )


def knowledge_lines(*, results: dict) -> list[str]:
    dataset = results["dataset"]
    ingestion, retrieval, latency = results["ingestion"], results["retrieval"], results["latency"]
    lines = [
        "",
        row(
            label=f"Ingestion: SciFact, {dataset['abstracts']:,} abstracts",
            cells=["chunks", "seconds", "chunks/s"],
        ),
        ingestion_row(label="  pipeline (files_ingest)", ingestion=ingestion, name="pipeline"),
        ingestion_row(
            label=f"  bare encode (batch {ingestion['embedding_batch_size']})",
            ingestion=ingestion,
            name="bare",
        ),
        row(
            label="  ratio pipeline / bare",
            cells=["", "", f"{ingestion['ratio_pipeline_to_bare']:.3f}"],
            note=f"target ≥ {ingestion['ratio_target']:.2f}",
        ),
        ingestion_row(label="  Keel's encoder alone", ingestion=ingestion, name="keel_encoder"),
        row(
            label="  ratio pipeline / Keel's encoder",
            cells=["", "", f"{ingestion['ratio_pipeline_to_keel_encoder']:.3f}"],
            note="what parsing, chunking and storing cost",
        ),
        f"  (both encoders on the same {ingestion['texts_embedded']:,} texts the pipeline"
        " embedded: every chunk and each of its sentences)",
    ]
    if ingestion["duplicates_skipped"]:
        lines.append(
            f"  ({ingestion['documents_indexed']:,} indexed, "
            f"{ingestion['duplicates_skipped']} skipped as duplicates of another abstract)"
        )

    published = retrieval["published_ndcg_at_10"]
    notes = {
        "hybrid": f"target ≥ {retrieval['hybrid_ndcg_target']:.2f}",
        "vector": "all-MiniLM-L6-v2 ≈ {:.3f}".format(published["all-MiniLM-L6-v2 (dense only)"]),
        "keyword": "BM25 {:.3f}".format(published["BM25 (BEIR paper)"]),
    }
    lines += [
        "",
        row(label=f"Retrieval: SciFact, {dataset['queries']} claims", cells=["nDCG@10", "R@100"]),
    ]
    for mode, quality in retrieval["modes"].items():
        lines.append(
            row(
                label=f"  {mode}",
                cells=[f"{quality['ndcg_at_10']:.4f}", f"{quality['recall_at_100']:.4f}"],
                note=notes[mode],
            )
        )

    demo = latency["demo_help_center"]
    lines += [
        "",
        row(
            label=f"Latency: hybrid, k={latency['k']} (ms)",
            cells=["p50", "p95", "embed p50", "embed p95", "rest p50", "rest p95", "hit@3"],
        ),
        latency_row(
            label=f"  SciFact, {latency['scifact']['queries']} claims", figures=latency["scifact"]
        ),
        latency_row(
            label=f"  demo help center, {demo['queries']} questions",
            figures=demo,
            hit_rate=demo["hit_at_3"],
        ),
    ]
    return lines


def answer_lines(*, answers: dict) -> list[str]:
    llm = answers["llm_test_server"]
    cells = ["answers", "search50", "1st p50", "1st p95", "total p50", "total p95"]
    return [
        "",
        row(label=f"Answers: demo help center, {answers['questions']} questions (ms)", cells=cells),
        answer_row(label="  extractive", figures=answers["extractive_cold"]),
        f"  ({answers['extractive_cites_expected_document']} of {answers['questions']} "
        "extractive answers cite the document the question was written for)",
        answer_row(label="  extractive, asked again", figures=answers["extractive_warm"]),
        answer_row(label="  LLM server: Keel's overhead", figures=llm),
        stages_line(label="extractive", figures=answers["extractive_cold"]),
        stages_line(label="LLM server", figures=llm),
        f"  (test server: first token after {llm['first_token_ms']:.0f} ms; the same requests"
        " sent again by the bare openai client, whose times are subtracted per answer: first"
        f" sentence p50 {llm['bare_client_first_sentence_p50_ms']:.0f} ms, whole stream p50 "
        f"{llm['bare_client_stream_p50_ms']:.0f} ms; {llm['answered_by_llm']} answers by the"
        " LLM; totals include the store)",
        *publish_gate_lines(gate=answers["publish_gate"]),
        *confidence_lines(figures=answers["confidence"]),
        *handoff_lines(figures=answers["handoff"]),
        cold_start_line(figures=answers["cold_start"], warm=answers["extractive_cold"]),
    ]


def stages_line(*, label: str, figures: dict) -> str:
    """Where an answer's time goes, p50 of each stage (they need not add up to the total's
    p50)."""
    stages = figures["stages_p50_ms"]
    return (
        f"  {label}, p50 ms: question + input rails {stages['question_and_input_rails']:.0f}"
        f" · store beside retrieval {stages['store_and_retrieval']:.0f} · generation "
        f"{stages['generation']:.0f} · output rails {stages['output_rails']:.0f} · store "
        f"{stages['store']:.0f}"
    )


def answer_row(*, label: str, figures: dict) -> str:
    names = ["retrieval_p50_ms", "first_token_p50_ms", "first_token_p95_ms"]
    names += ["total_p50_ms", "total_p95_ms"]
    return row(label=label, cells=[str(figures["answered"]), *(f"{figures[n]:.1f}" for n in names)])


def latency_row(*, label: str, figures: dict, hit_rate: float | None = None) -> str:
    names = ["p50_ms", "p95_ms", "embed_p50_ms", "embed_p95_ms", "rest_p50_ms", "rest_p95_ms"]
    cells = [f"{figures[name]:.1f}" for name in names]
    return row(label=label, cells=[*cells, "" if hit_rate is None else f"{hit_rate:.2f}"])


def row(*, label: str, cells: Sequence[str], note: str = "") -> str:
    text = label.ljust(LABEL_WIDTH) + "".join(cell.rjust(CELL_WIDTH) for cell in cells)
    return f"{text}   {note}".rstrip()


def injection_lines(*, figures: dict) -> list[str]:
    redteam = ", ".join(
        f"{category} {c['flagged']}/{c['cases']}"
        for category, c in figures["redteam_flagged_by_category"].items()
    )
    shipped, cross_validated = figures["shipped"], figures["cross_validated"]
    customers, foreign = figures["customer_questions"], figures["foreign_customer_questions"]
    return [
        "",
        row(
            label=f"Injection: shared prompts, {figures['prompts']:,} (held out)",
            cells=["precision", "recall", "benign FPR"],
        ),
        row(
            label="  flagged by the input rail",
            cells=[
                f"{shipped['precision']:.3f}",
                f"{shipped['recall']:.3f}",
                f"{shipped['false_positive_rate']:.3f}",
            ],
            note=f"p50 {figures['p50_ms']} ms",
        ),
        *(
            row(
                label=f"  cross-validated, at {rate} false positives",
                cells=["", f"{c['recall']:.3f}", f"{c['false_positive_rate']:.3f}"],
            )
            for rate, c in (
                ("1 %", cross_validated["at_1%_false_positives"]),
                ("5 %", cross_validated["at_5%_false_positives"]),
            )
        ),
        f"  customer questions flagged: {customers['flagged_at_threshold']}/"
        f"{customers['questions']} (1 % threshold "
        f"{customers['threshold_at_1%_false_positives']}); other languages: "
        f"{foreign['flagged_at_threshold']}/{foreign['questions']}",
        f"  red-team suite flagged: {redteam}",
    ]


def quarantine_lines(*, figures: dict) -> list[str]:
    planted = figures["planted"]
    return [
        "",
        "Quarantine at indexing: ordinary help text held by mistake",
        *(
            f"  {name}: {share['passages_held']}/{share['passages']} passages "
            f"({share['passages_held'] / share['passages']:.1%}), {share['sentences_held']}/"
            f"{share['sentences']} sentences ({share['sentences_held'] / share['sentences']:.1%})"
            for name, share in (
                ("demo help center", figures["demo"]),
                ("doc2dial", figures["doc2dial"]),
            )
        ),
        f"  planted instructions held: {planted['held']}/{planted['planted']}; help sentences "
        f"around them still searched: {planted['help_searched']}/{planted['help_sentences']}",
    ]


def policy_rules_lines(*, figures: dict) -> list[str]:
    return [
        "",
        row(label="Policy rules (default policy), by meaning", cells=["caught", "ordinary"]),
        *(
            row(
                label=f"  {name.replace('_', ' ')} (≥ {rule['threshold']})",
                cells=[
                    f"{rule['caught']}/{rule['cases']}",
                    f"{rule['ordinary_caught']}/{rule['ordinary']}",
                ],
                note="ordinary: demo questions and benign look-alikes wrongly caught",
            )
            for name, rule in figures.items()
        ),
    ]


def publish_gate_lines(*, gate: dict) -> list[str]:
    categories = ", ".join(
        f"{category} {c['passed']}/{c['cases']}" for category, c in gate["by_category"].items()
    )
    return [
        f"  publish gate, demo policy, extractive: {gate['passed']}/{gate['cases']} cases pass, "
        f"{gate['critical_failures']} critical failures, {gate['seconds']} s",
        f"    by category: {categories}",
    ]


def confidence_lines(*, figures: dict) -> list[str]:
    splits = "; ".join(
        f"at {threshold}: above {split['above']} ({split['above_right_share']} right), "
        f"below {split['below']} ({split['below_wrong_share']} wrong)"
        for threshold, split in figures["by_threshold"].items()
    )
    return [
        f"  confidence: {figures['answered']} answers, {figures['right']} right; {splits}",
        f"    refitted now: {figures['refitted']}",
    ]


def cold_start_line(*, figures: dict, warm: dict) -> str:
    ratio = figures["first_answer_ms"] / warm["total_p50_ms"]
    return (
        f"  fresh server process: ready in {figures['ready_s']:.1f} s; its first extractive "
        f"answer {figures['first_answer_ms']:.0f} ms ({ratio:.1f}x the p50 above), its second "
        f"{figures['second_answer_ms']:.0f} ms"
    )


def handoff_lines(*, figures: dict) -> list[str]:
    return [
        f"  handoff, in-process ({figures['rounds']} rounds): request → open console "
        f"p50 {figures['request_to_console_p50_ms']} / "
        f"p95 {figures['request_to_console_p95_ms']} ms; "
        f"agent's reply → customer p50 {figures['agent_reply_to_customer_p50_ms']} / "
        f"p95 {figures['agent_reply_to_customer_p95_ms']} ms (target < 300)",
    ]


SEARCHER_LABELS = {
    "bare_hnsw": "bare HNSW (psycopg)",
    "chunk_search_vector": "chunk_search, vector",
    "chunk_search_hybrid": "chunk_search, hybrid",
}


def scale_lines(*, figures: dict) -> list[str]:
    embedding = figures["query_embedding"]
    lines = [
        "",
        row(
            label=f"Scale: {figures['queries']} claims, k={figures['k']} (ms)",
            cells=["p50", "p95", "/ bare", "R@10"],
            note=f"target p50 ≤ {figures['latency_target_ms']:.0f} ms at 100k, "
            f"R@10 ≥ {figures['recall_target']}",
        ),
        f"  synthetic chunks: {figures['synthesis']}",
        f"  query embedding, not in the timings below: p50 {embedding['p50_ms']} / "
        f"p95 {embedding['p95_ms']} ms",
    ]
    for size, measured in figures["sizes"].items():
        exact, keyword = measured["exact"], measured["keyword_against_exhaustive"]
        load = measured["load_average_1min"]
        lines += [
            f"  {int(size):,} chunks: loaded in {measured['load_seconds']} s, indexes built in "
            f"{measured['index_build_seconds']} s (HNSW {measured['index_mib']} MiB); "
            f"load average {load['before']:.1f} → {load['after']:.1f}",
            f"    exact vector scan p50 {exact['p50_ms']} / p95 {exact['p95_ms']} ms; "
            f"full text within budget: R@10 {keyword['recall_at_10']:.3f} against the "
            f"exhaustive list, which takes p50 {keyword['exhaustive_p50_ms']} / "
            f"p95 {keyword['exhaustive_p95_ms']} ms ({keyword['queries']} claims)",
        ]
        for ef_search, searchers in measured["ef_search"].items():
            for name, timing in searchers.items():
                recall = timing.get("recall_at_10")
                lines.append(
                    row(
                        label=f"    ef_search {ef_search}: {SEARCHER_LABELS[name]}",
                        cells=[
                            f"{timing['p50_ms']:.1f}",
                            f"{timing['p95_ms']:.1f}",
                            f"{timing['ratio_to_bare_p50']:.2f}",
                            "" if recall is None else f"{recall:.3f}",
                        ],
                    )
                )
    largest = max(figures["sizes"], key=int)
    lines.append(
        f"  the {int(largest):,} chunks deleted (their postings and word counts with them) in "
        f"{figures['delete_seconds']} s"
    )
    return lines
