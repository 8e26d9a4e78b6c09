"""Fits `assistant.answerability` on doc2dial: `python -m bench answerability [DATA_DIR]`.

doc2dial's help pages (four public services, read in place from `DATA_DIR`) are ingested
as Keel ingests a help center, one knowledge base per service, into the bench database.
Each first-turn question is searched as the pipeline searches (hybrid, 4 passages; a
list with no passage on the subject, as `pipeline` judges it, is left out):

- in its own service's pages: the passage of its gold page (the one holding the gold
  answer, else the best found of that page) answers; the passages of other pages found
  beside it do not;
- in another service's pages: none of the passages found answers (a question the help
  center does not cover, as a customer asks it).

A quarter of the pages, with their questions, is held out: the logistic is fitted on the
rest and judged on them (per passage, and per question: its best passage, answerable in
its own service with the gold page found, unanswerable in another), then refitted on all
and printed as the constants to paste.
"""

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

DATA_DIR = Path("/work/shared/data/support")
GOLD_DEPTH = 12  # how deep the gold page's passage is looked for


@dataclass
class Pair:
    question: int  # its index
    page: str  # the question's gold page
    features: dict[str, float]
    answers: bool
    own: bool  # searched in its own service's pages
    score: float = 0.0


def answerability_fit(*, data: Path = DATA_DIR) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from assistant.answerability import WEIGHTS

    pairs = _pairs(searches=_searches(data=data))
    names = list(WEIGHTS)
    features = np.array([[pair.features[name] for name in names] for pair in pairs])
    labels = np.array([pair.answers for pair in pairs])
    pages = sorted({pair.page for pair in pairs})
    held_pages = set(pages[::4])
    held = np.array([pair.page in held_pages for pair in pairs])
    model = LogisticRegression(class_weight="balanced").fit(features[~held], labels[~held])
    scores = model.predict_proba(features)[:, 1]
    for pair, score in zip(pairs, scores, strict=True):
        pair.score = float(score)
    print(f"pairs {len(pairs)}, answering {int(labels.sum())}; held-out pages {len(held_pages)}")
    print(f"held out, per passage: ROC AUC {roc_auc_score(labels[held], scores[held]):.3f}")
    _questions_report(pairs=[pair for pair in pairs if pair.page in held_pages])
    model = LogisticRegression(class_weight="balanced").fit(features, labels)
    print(f"INTERCEPT = {model.intercept_[0]:.2f}")
    weights = ",\n    ".join(
        f'"{name}": {weight:.2f}' for name, weight in zip(names, model.coef_[0], strict=True)
    )
    print(f"WEIGHTS = {{\n    {weights},\n}}")


def demo_check(*, project_root: Path) -> None:
    """The shipped weights on a help center they were not fitted on: the demo's questions
    (each answerable) judged at the default policy's threshold."""
    from assistant.answerability import answerability_judge, answerable_below
    from assistant.models import PolicyVersion
    from assistant.pipeline import SOURCES_PER_ANSWER
    from bench.measurements import folder_ingest, knowledge_base_fresh
    from knowledge.search import chunk_search

    demo = knowledge_base_fresh(
        workspace_slug="bench-answerability-demo", slug="help-center", name="Help center"
    )
    folder_ingest(knowledge_base=demo, folder=project_root / "knowledge" / "demo" / "help-center")
    threshold = answerable_below(confidence_threshold=PolicyVersion().confidence_threshold)
    cases = json.loads((project_root / "knowledge" / "demo" / "questions.json").read_text())
    scores = [
        answerability_judge(
            question=case["question"],
            sources=chunk_search(
                knowledge_bases=[demo], query=case["question"], k=SOURCES_PER_ANSWER
            ),
        ).score
        for case in cases
    ]
    passed = sum(score >= threshold for score in scores)
    print(f"demo help center: {passed}/{len(cases)} questions judged answerable at {threshold}")
    print("  lowest: " + ", ".join(f"{score:.2f}" for score in sorted(scores)[:5]))


def _questions_report(*, pairs: list[Pair]) -> None:
    """A question's judgement is its best passage's: at which thresholds are the answerable
    ones answered and the others not?"""
    from sklearn.metrics import roc_auc_score

    best: dict[tuple[int, bool], float] = {}
    found: dict[tuple[int, bool], bool] = {}
    for pair in pairs:
        key = (pair.question, pair.own)
        best[key] = max(best.get(key, 0.0), pair.score)
        found[key] = found.get(key, False) or pair.answers
    answerable = [best[key] for key in best if key[1] and found[key]]
    unanswerable = [best[key] for key in best if not key[1]]
    labels = [1] * len(answerable) + [0] * len(unanswerable)
    auc = roc_auc_score(labels, answerable + unanswerable)
    print(
        f"held out, per question: {len(answerable)} answerable (gold page found), "
        f"{len(unanswerable)} asked of another service; ROC AUC {auc:.3f}"
    )
    for threshold in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
        print(
            f"  threshold {threshold:.1f}: answerable answered "
            f"{np.mean(np.array(answerable) >= threshold):.0%}, others answered "
            f"{np.mean(np.array(unanswerable) >= threshold):.0%}"
        )


@dataclass(frozen=True)
class Searched:
    """A first-turn question and what the search found for it in its own service's pages
    and in another's."""

    question: dict
    own: list  # of Hit, best first
    other: list


def _searches(*, data: Path) -> list[Searched]:
    from knowledge.search import chunk_search

    knowledge_bases = _services_ingest(data=data)
    services = sorted(knowledge_bases)
    with gzip.open(data / "questions.jsonl.gz", "rt") as lines:
        questions = [q for line in lines if (q := json.loads(line))["is_first_turn"]]
    searched = []
    for question in tqdm(questions, desc="Searching", unit="question"):
        other = services[(services.index(question["domain"]) + 1) % len(services)]
        hits = {
            service: chunk_search(
                knowledge_bases=[knowledge_bases[service]], query=question["question"], k=GOLD_DEPTH
            )
            for service in (question["domain"], other)
        }
        searched.append(Searched(question, hits[question["domain"]], hits[other]))
    return searched


def _pairs(*, searches: list[Searched]) -> list[Pair]:
    from assistant.answerability import sources_features
    from assistant.pipeline import MIN_SOURCE_SIMILARITY, SOURCES_PER_ANSWER
    from knowledge.embeddings import query_embed

    pairs = []
    for index, searched in enumerate(searches):
        question = searched.question
        for own, hits in ((True, searched.own), (False, searched.other)):
            sources = hits[:SOURCES_PER_ANSWER]
            if max((hit.similarity or 0.0 for hit in sources), default=0.0) < MIN_SOURCE_SIMILARITY:
                continue  # nothing on the subject: the pipeline judges none of them
            gold = [hit for hit in hits if hit.document_title == question["doc_id"]] if own else []
            holding = [hit for hit in gold if question["answer"][:60] in hit.text]
            answering = (holding or gold)[:1]
            judged = [hit for hit in sources if hit.document_title != question["doc_id"]]
            features = sources_features(
                question=question["question"],
                question_vector=query_embed(query=question["question"]),
                language="en",
                sources=[*answering, *judged],
            )
            for hit, each in zip([*answering, *judged], features, strict=True):
                pairs.append(Pair(index, question["doc_id"], each, hit in answering, own))
    return pairs


def _services_ingest(*, data: Path) -> dict:
    """One knowledge base per service, each page a Markdown file titled by its doc id;
    kept between runs (ingested again only when a page is missing)."""
    from django.conf import settings

    from assistant.models import Workspace
    from knowledge.ingest import files_ingest
    from knowledge.models import Document, KnowledgeBase

    pages: dict[str, list[dict]] = {}
    for line in (data / "docs.jsonl").open():
        page = json.loads(line)
        pages.setdefault(page["domain"], []).append(page)
    workspace, _ = Workspace.objects.get_or_create(
        slug="bench-doc2dial-answerability", defaults={"name": "Bench: doc2dial"}
    )
    folder = Path(settings.MEDIA_ROOT) / "doc2dial-answerability"
    knowledge_bases = {}
    for service, service_pages in sorted(pages.items()):
        knowledge_base, _ = KnowledgeBase.objects.get_or_create(
            workspace=workspace, slug=service, defaults={"name": service}
        )
        ready = Document.objects.filter(
            knowledge_base=knowledge_base, status=Document.Status.READY
        ).count()
        if ready < len(service_pages):
            paths = []
            for number, page in enumerate(service_pages):
                path = folder / service / f"{number:03}.md"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"# {page['doc_id']}\n\n{page['text']}\n")
                paths.append(path)
            outcomes = list(files_ingest(knowledge_base=knowledge_base, paths=paths))
            print(f"{service}: {len(outcomes)} pages ingested")
        knowledge_bases[service] = knowledge_base
    return knowledge_bases
