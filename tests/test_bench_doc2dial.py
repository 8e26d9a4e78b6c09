"""`python -m bench doc2dial`'s harness on three small pages of our own: loaded, ingested,
asked through a real Keel server's customer socket, scored from Keel's records."""

import gzip
import json

import pytest

from bench.customer_turns import site_knowledge_base
from bench.doc2dial import (
    SITE,
    doc2dial_knowledge_base,
    doc2dial_load,
    doc2dial_metrics,
    pages_ingest,
    questions_ask,
    span_recall,
)

RETURNS_TEXT = (
    "\n\nReturning a bike \nYou can return a bike within 30 days of delivery for a full "
    "refund. Pack it in its original box and print the prepaid label from your order page. "
    "\n\nRefunds \nRefunds reach your card within five business days after the bike arrives "
    "at our warehouse. \n"
)
CHARGING_TEXT = (
    "\n\nCharging the battery \nA full charge of the e-bike battery takes four hours with "
    "the supplied charger. Charge it indoors, at room temperature. \n"
)
HOURS_TEXT = (
    "\n\nOpening hours \nOur Portland workshop is open from 9 am to 6 pm, Monday to Saturday. "
    "It is closed on Sundays and public holidays. \n"
)
PAGES = [
    {"doc_id": "returns#1", "title": "Returns and refunds", "text": RETURNS_TEXT},
    {"doc_id": "charging#1", "title": "Battery charging", "text": CHARGING_TEXT},
    {"doc_id": "hours#1", "title": "Workshop opening hours", "text": HOURS_TEXT},
    # The same page under a second id, as doc2dial has it: one page, one document.
    {"doc_id": "hours#2", "title": "Workshop opening hours", "text": HOURS_TEXT},
]


def question(number: int, *, doc_id: str, text: str, answer: str, first: bool = True) -> dict:
    return {
        "id": f"d{number}_1",
        "doc_id": doc_id,
        "question": text,
        "answer": answer,
        "is_first_turn": first,
    }


QUESTIONS = [
    question(
        1,
        doc_id="returns#1",
        text="How many days do I have to return my bike?",
        answer="You can return a bike within 30 days of delivery for a full refund.",
    ),
    question(
        2,
        doc_id="hours#2",
        text="When is the Portland workshop open?",
        answer="Our Portland workshop is open from 9 am to 6 pm, Monday to Saturday.",
    ),
    # Its gold page is not the one that answers it: a miss the figures must count.
    question(
        3,
        doc_id="returns#1",
        text="How long does a full charge of the e-bike battery take?",
        answer="Refunds reach your card within five business days after the bike arrives.",
    ),
    # Not a first turn: not asked.
    question(
        4,
        doc_id="charging#1",
        text="And indoors?",
        answer="Charge it indoors, at room temperature.",
        first=False,
    ),
]


def doc2dial_folder_write(folder):
    (folder / "docs.jsonl").write_text("".join(json.dumps(page) + "\n" for page in PAGES))
    with gzip.open(folder / "questions.jsonl.gz", "wt") as lines:
        lines.writelines(json.dumps(row) + "\n" for row in QUESTIONS)
    return folder


def test_doc2dial_questions_scored_from_keels_records(keel_server, tmp_path):
    pages, questions = doc2dial_load(folder=doc2dial_folder_write(tmp_path), limit=None)
    knowledge_base = site_knowledge_base(
        workspace_slug="doc2dial-test", workspace_name="Trailhead Cycles", site=SITE
    )
    doc_ids = pages_ingest(knowledge_base=knowledge_base, pages=pages)

    results = questions_ask(
        address=keel_server.removeprefix("http://"),
        knowledge_base=knowledge_base,
        questions=questions,
        doc_ids=doc_ids,
    )

    assert sorted(doc_ids.values()) == ["charging#1", "hours#1", "returns#1"]
    by_id = {result["id"]: result for result in results}
    assert sorted(by_id) == ["d1_1", "d2_1", "d3_1"]
    returns, hours, charging = by_id["d1_1"], by_id["d2_1"], by_id["d3_1"]
    assert returns["answered"] and "30 days" in returns["answer_text"]
    assert returns["retrieved_docs"][0] == "returns#1"
    assert returns["cited_docs"] == ["returns#1"]
    assert returns["span_recall"] >= 0.5
    # The duplicate page's question is scored against the one document Keel kept.
    assert hours["gold_doc"] == "hours#1"
    assert hours["retrieved_docs"][0] == "hours#1" and hours["cited_docs"] == ["hours#1"]
    assert charging["answered"] and "four hours" in charging["answer_text"]
    assert charging["cited_docs"] == ["charging#1"]
    assert charging["span_recall"] < 0.5
    metrics = doc2dial_metrics(results=results)
    assert metrics["questions"] == 3
    assert metrics["hit_at_1"] == round(2 / 3, 4)
    charging_hit_at_5 = "returns#1" in charging["retrieved_docs"][:5]
    assert metrics["hit_at_5"] == round((2 + charging_hit_at_5) / 3, 4)
    assert metrics["citation_precision"] == round(2 / 3, 4)
    assert metrics["citation_precision_per_answer"] == round(2 / 3, 4)
    assert metrics["answered"] == 1.0
    assert metrics["span_half_of_questions"] == round(2 / 3, 4)


@pytest.mark.django_db
def test_a_kept_help_centre_is_asked_again_without_indexing_its_pages(tmp_path):
    pages, _ = doc2dial_load(folder=doc2dial_folder_write(tmp_path), limit=None)
    kept = doc2dial_knowledge_base(keep=True)
    doc_ids = pages_ingest(knowledge_base=kept, pages=pages)
    indexed = dict(kept.documents.values_list("pk", "indexed_at"))

    again = doc2dial_knowledge_base(keep=True)

    assert again == kept
    # Written to a new folder, the pages are the documents already indexed, by file name.
    assert pages_ingest(knowledge_base=again, pages=pages) == doc_ids
    assert dict(again.documents.values_list("pk", "indexed_at")) == indexed
    assert doc2dial_knowledge_base(keep=False) != kept


def test_span_recall_counts_the_gold_words_an_answer_holds():
    gold = "You can return a bike within 30 days [2] of delivery."
    # Case, punctuation and markers aside, every word of the span is there.
    assert (
        span_recall(answer="YOU CAN RETURN A BIKE, within 30 days of delivery [1].", gold_span=gold)
        == 1.0
    )
    # A word counts at most as often as the span has it: "a" twice, not three times.
    assert span_recall(answer="a a a bike", gold_span="a bike a car") == 0.75
    assert span_recall(answer="Refunds take five days.", gold_span=gold) == 0.1


def result_row(*, gold: str, retrieved: list[str], cited: list[str], recall: float) -> dict:
    return {
        "gold_doc": gold,
        "answered": bool(cited),
        "timed_out": False,
        "retrieved_docs": retrieved,
        "searched_docs": retrieved[:5],
        "cited_docs": cited,
        "span_recall": recall,
    }


def test_citation_precision_over_all_cited_documents_and_per_answer():
    results = [
        result_row(gold="a", retrieved=["b", "a"], cited=["a", "b"], recall=0.5),
        result_row(gold="c", retrieved=["c"], cited=["c"], recall=0.49),
        result_row(gold="d", retrieved=["e", "f", "g", "h", "i", "d"], cited=[], recall=0.0),
    ]

    metrics = doc2dial_metrics(results=results)

    assert metrics["hit_at_1"] == round(1 / 3, 4)
    assert metrics["hit_at_5"] == round(2 / 3, 4)  # "d" comes sixth
    assert metrics["citation_precision"] == round(2 / 3, 4)  # 2 of the 3 cited documents
    assert metrics["citation_precision_per_answer"] == 0.75  # (1/2 + 1/1) / 2
    assert metrics["answered"] == round(2 / 3, 4)
    assert metrics["span_half_of_questions"] == round(1 / 3, 4)
    assert metrics["span_half_of_answered"] == 0.5
