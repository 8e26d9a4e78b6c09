"""Input rails measured on the shared sets: personal data recall per type and false alarms.

`pii/pii.jsonl` is Presidio's synthetic set (gold spans by type); the benign rows of
`injection/prompts.jsonl.gz` are ordinary questions, where any redaction is a false alarm.
"""

import gzip
import json
import time
from collections import Counter
from pathlib import Path

from assistant.rails.personal_data import KINDS, Finding, personal_data_find, personal_data_redact


def personal_data_measure(*, shared_data: Path) -> dict:
    rows = [json.loads(line) for line in (shared_data / "pii" / "pii.jsonl").open()]
    found, total, false_alarms, seconds = Counter(), Counter(), Counter(), []
    for row in rows:
        started = time.perf_counter()
        spans = personal_data_find(text=row["text"])
        seconds.append(time.perf_counter() - started)
        for gold in row["spans"]:
            if gold["type"] in KINDS:
                total[gold["type"]] += 1
                found[gold["type"]] += any(_overlap(span, gold) for span in spans)
        for span in spans:
            if not any(_overlap(span, gold) for gold in row["spans"]):
                false_alarms[span.kind] += 1
    with gzip.open(shared_data / "injection" / "prompts.jsonl.gz", "rt") as prompts:
        benign = [row["text"] for row in map(json.loads, prompts) if row["label"] == "benign"]
    benign_redacted = sum(bool(personal_data_redact(text=text).replacements) for text in benign)
    seconds.sort()
    return {
        "examples": len(rows),
        "recall": {
            entity: {"spans": total[entity], "found": found[entity]} for entity in sorted(total)
        },
        "false_alarms_in_pii_set": dict(false_alarms),
        "benign_questions": len(benign),
        "benign_questions_redacted": benign_redacted,
        "p50_ms": round(seconds[len(seconds) // 2] * 1000, 2),
    }


def _overlap(span: Finding, gold: dict) -> bool:
    return span.start < gold["end"] and span.end > gold["start"]
