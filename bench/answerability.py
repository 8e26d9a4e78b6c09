"""Fits `assistant.answering.answerability` on doc2dial: `python -m bench answerability [DATA_DIR]`.

doc2dial's help pages (four public services, read in place from `DATA_DIR`) are ingested
as Keel ingests a help center, one knowledge base per service, into the bench database.
Each first-turn question is searched as the pipeline searches (hybrid, 4 passages; a
list with no passage on the subject, as `pipeline` judges it, is left out):

- in its own service's pages: the passage of its gold page (the one holding the gold
  answer, else the best found of that page) answers; the passages of other pages found
  beside it do not;
- in another service's pages: none of the passages found answers (a question the help
  center does not cover, as a customer asks it);
- a near miss, in its own service's pages: the question with its most specific word (the
  one its gold passage shares with it that the fewest passages hold) replaced by a word of
  about the same frequency in the language that other services' questions use and no
  page of its own service holds: still on the subject, no longer answered there ("how do I
  renew my license" becoming "how do I renew my pension"). None of the passages answers.
- a neighbour, the same with a word its own service's pages do hold, elsewhere than in the
  gold passage (a word of its other questions): the help center talks about that thing
  and about the subject, not about the one with the other ("how do I renew my license"
  becoming "how do I renew my registration"), as most of a company's near misses do.
  None of the passages is taken to answer it; since a few such questions may be answered
  somewhere after all, neighbours are judged but never fitted on.

The pages are cut into four folds, each question with its gold page: the logistic is fitted
on three and judged on the fourth, in turn (per passage, and per question: its best
passage, answerable in its own service with the gold page found, unanswerable in another,
as a near miss or as a neighbour), then refitted on all but the neighbours and printed as
the constants to paste.
"""

import gzip
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

_WORD = re.compile(r"[^\W_]+")

DATA_DIR = Path("/work/shared/data/support")
GOLD_DEPTH = 12  # how deep the gold page's passage is looked for
FOLDS = 4
NEAR_MISS_SEED = 21
# A near miss's word is drawn among the other services' words closest in frequency.
NEAR_MISS_CHOICES = 5
KINDS = ("own", "other", "near miss", "neighbour")
FITTED_KINDS = KINDS[:3]
SPECIFIC_ZIPF = 5.0


@dataclass
class Pair:
    question: int  # its index
    page: str  # the question's gold page
    features: dict[str, float]
    answers: bool
    kind: str  # "own": searched in its own service's pages; "other": in another's;
    # "near miss": with its most specific word swapped for one its pages lack, in its own;
    # "neighbour": swapped for one its pages hold elsewhere
    score: float = 0.0


def answerability_fit(*, data: Path = DATA_DIR) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    from assistant.answering.answerability import WEIGHTS

    pairs = _pairs(searches=_searches(data=data))
    names = list(WEIGHTS)
    features = np.array([[pair.features[name] for name in names] for pair in pairs])
    labels = np.array([pair.answers for pair in pairs])
    pages = np.array([pair.page for pair in pairs])
    # Neighbours are only judged: a few of them may be answered somewhere after all.
    fitting = np.array([pair.kind in FITTED_KINDS for pair in pairs])
    scores = np.zeros(len(pairs))
    for fitted, judged in GroupKFold(n_splits=FOLDS).split(features, labels, groups=pages):
        fitted = fitted[fitting[fitted]]
        model = LogisticRegression(class_weight="balanced").fit(features[fitted], labels[fitted])
        scores[judged] = model.predict_proba(features[judged])[:, 1]
    for pair, score in zip(pairs, scores, strict=True):
        pair.score = float(score)
    kinds = {kind: sum(pair.kind == kind for pair in pairs) for kind in KINDS}
    print(f"pairs {len(pairs)} {kinds}, answering {int(labels.sum())}; {FOLDS} folds of pages")
    print(
        "held out, per passage (neighbours left out): ROC AUC "
        f"{roc_auc_score(labels[fitting], scores[fitting]):.3f}"
    )
    _questions_report(pairs=pairs)
    model = LogisticRegression(class_weight="balanced").fit(features[fitting], labels[fitting])
    print(f"INTERCEPT = {model.intercept_[0]:.2f}")
    weights = ", ".join(
        f'"{name}": {weight:.2f}' for name, weight in zip(names, model.coef_[0], strict=True)
    )
    print(f"WEIGHTS = {{{weights}}}")


def demo_check(*, project_root: Path) -> None:
    """The shipped weights on a help center they were not fitted on: the demo's questions
    (each answerable) judged at the default policy's threshold."""
    from assistant.answering.answerability import answerability_judge, answerable_below
    from assistant.answering.pipeline import SOURCES_PER_ANSWER
    from assistant.models import PolicyVersion
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

    from assistant.answering.answerability import answerable_below
    from assistant.models import PolicyVersion

    shipped = answerable_below(confidence_threshold=PolicyVersion().confidence_threshold)
    best: dict[tuple[int, str], float] = {}
    found: dict[tuple[int, str], bool] = {}
    for pair in pairs:
        key = (pair.question, pair.kind)
        best[key] = max(best.get(key, 0.0), pair.score)
        found[key] = found.get(key, False) or pair.answers
    answerable = np.array([best[key] for key in best if key[1] == "own" and found[key]])
    print(f"held out, per question: {len(answerable)} answerable (gold page found)")
    for kind in KINDS[1:]:
        unanswerable = np.array([best[key] for key in best if key[1] == kind])
        labels = [1] * len(answerable) + [0] * len(unanswerable)
        auc = roc_auc_score(labels, [*answerable, *unanswerable])
        print(f"  against {len(unanswerable)} {kind}: ROC AUC {auc:.3f}")
        for threshold in (shipped, 0.1, 0.2, 0.3, 0.5):
            print(
                f"    threshold {threshold:.2f}: answerable answered "
                f"{np.mean(answerable >= threshold):.1%}, {kind} judged unanswerable "
                f"{np.mean(unanswerable < threshold):.1%}"
            )


@dataclass(frozen=True)
class Searched:
    """A first-turn question and what the search found for it in its own service's pages
    and in another's; and its near miss and neighbour, if made, and what they found."""

    question: dict
    own: list  # of Hit, best first
    other: list
    near_miss: str | None = None
    near: tuple = ()
    neighbour: str | None = None
    beside: tuple = ()


def _searches(*, data: Path) -> list[Searched]:
    from knowledge.search import chunk_search

    knowledge_bases = _services_ingest(data=data)
    services = sorted(knowledge_bases)
    with gzip.open(data / "questions.jsonl.gz", "rt") as lines:
        questions = [q for line in lines if (q := json.loads(line))["is_first_turn"]]
    vocabularies = _vocabularies(knowledge_bases=knowledge_bases, questions=questions)
    # One draw each, so the near misses are the same with or without the neighbours.
    choosers = (random.Random(NEAR_MISS_SEED), random.Random(NEAR_MISS_SEED + 1))
    searched = []
    for question in tqdm(questions, desc="Searching", unit="question"):
        other = services[(services.index(question["domain"]) + 1) % len(services)]
        hits = {
            service: chunk_search(
                knowledge_bases=[knowledge_bases[service]], query=question["question"], k=GOLD_DEPTH
            )
            for service in (question["domain"], other)
        }
        vocabulary = vocabularies[question["domain"]]
        swapped = [
            _near_miss(
                question=question,
                own=hits[question["domain"]],
                vocabulary=vocabulary,
                replacements=replacements,
                chooser=chooser,
            )
            for replacements, chooser in zip(
                (vocabulary.foreign, vocabulary.held), choosers, strict=True
            )
        ]
        found = [
            ()
            if text is None
            else tuple(
                chunk_search(
                    knowledge_bases=[knowledge_bases[question["domain"]]], query=text, k=GOLD_DEPTH
                )
            )
            for text in swapped
        ]
        searched.append(
            Searched(
                question,
                hits[question["domain"]],
                hits[other],
                swapped[0],
                found[0],
                swapped[1],
                found[1],
            )
        )
    return searched


@dataclass(frozen=True)
class Vocabulary:
    """A service's indexed stems, with their chunks, the words other services' questions
    use that none of its pages holds, and those its own questions use that its pages
    hold (with their frequency in the language)."""

    chunks: dict[str, int]
    foreign: list[tuple[float, str]]  # (Zipf frequency, word), by frequency
    held: list[tuple[float, str]]


def _vocabularies(*, knowledge_bases: dict, questions: list[dict]) -> dict[str, Vocabulary]:
    from wordfreq import zipf_frequency

    from knowledge.languages import word_stem
    from knowledge.models import Lexeme

    vocabularies = {}
    for service, knowledge_base in knowledge_bases.items():
        chunks = dict(
            Lexeme.objects.filter(knowledge_base=knowledge_base, language="en").values_list(
                "lexeme", "chunks"
            )
        )
        words = {
            (question["domain"] == service, word)
            for question in questions
            for word in _WORD.findall(question["question"].lower())
            if _specific(word)
        }
        foreign, held = (
            sorted(
                (zipf_frequency(word, "en"), word)
                for own, word in words
                if own == wanted and (word_stem(word=word, language="en") in chunks) == own
            )
            for wanted in (False, True)
        )
        vocabularies[service] = Vocabulary(chunks=chunks, foreign=foreign, held=held)
    return vocabularies


def _near_miss(
    *,
    question: dict,
    own: list,
    vocabulary: Vocabulary,
    replacements: list[tuple[float, str]],
    chooser: random.Random,
) -> str | None:
    """The question with its most specific word (the gold passage holds it, the fewest of
    its service's passages do) swapped for one of `replacements` of about the same
    frequency that neither the gold passage nor the question holds; None when the gold
    passage is not found or shares no such word."""
    from wordfreq import zipf_frequency

    from knowledge.languages import word_stem

    gold = [hit for hit in own if hit.document_title == question["doc_id"]]
    if not gold:
        return None
    held = {
        word_stem(word=word, language="en")
        for hit in gold[:1]
        for word in _WORD.findall(hit.text.lower())
    }
    linking = [
        word
        for word in set(_WORD.findall(question["question"].lower()))
        if _specific(word)
        and (stem := word_stem(word=word, language="en")) in held
        and vocabulary.chunks.get(stem)
    ]
    asked = {
        word_stem(word=word, language="en") for word in _WORD.findall(question["question"].lower())
    }
    excluded = held | asked
    candidates = [
        (frequency, word)
        for frequency, word in replacements
        if word_stem(word=word, language="en") not in excluded
    ]
    if not linking or not candidates:
        return None
    word = min(
        sorted(linking),
        key=lambda each: (vocabulary.chunks[word_stem(word=each, language="en")], each),
    )
    frequency = zipf_frequency(word, "en")
    closest = sorted(candidates, key=lambda each: abs(each[0] - frequency))
    _, replacement = chooser.choice(closest[:NEAR_MISS_CHOICES])
    return re.sub(rf"\b{re.escape(word)}\b", replacement, question["question"], flags=re.I)


def _specific(word: str) -> bool:
    """A word that names a thing: letters only, known to the language, and well below its
    most common words (Zipf 5: "time", "number")."""
    from wordfreq import zipf_frequency

    return word.isalpha() and 0 < zipf_frequency(word, "en") < SPECIFIC_ZIPF


def _pairs(*, searches: list[Searched]) -> list[Pair]:
    from assistant.answering.answerability import sources_features
    from assistant.answering.pipeline import MIN_SOURCE_SIMILARITY, SOURCES_PER_ANSWER
    from knowledge.embeddings import query_embed
    from knowledge.selectors import lexeme_chunks

    pairs = []
    for index, searched in enumerate(searches):
        question = searched.question
        for kind, text, hits in (
            ("own", question["question"], searched.own),
            ("other", question["question"], searched.other),
            ("near miss", searched.near_miss, list(searched.near)),
            ("neighbour", searched.neighbour, list(searched.beside)),
        ):
            sources = hits[:SOURCES_PER_ANSWER]
            if max((hit.similarity or 0.0 for hit in sources), default=0.0) < MIN_SOURCE_SIMILARITY:
                continue  # nothing on the subject (or no near miss): the pipeline judges none
            gold = [hit for hit in hits if hit.document_title == question["doc_id"]]
            holding = [hit for hit in gold if question["answer"][:60] in hit.text]
            answering = (holding or gold)[:1] if kind == "own" else []
            # A near miss's gold page does not answer it either.
            judged = [hit for hit in sources if kind != "own" or hit not in gold]
            features = sources_features(
                question=text,
                question_vector=query_embed(query=text),
                language="en",
                sources=[*answering, *judged],
                lexemes=lexeme_chunks(
                    text=text, language="en", document_ids=[hit.document_id for hit in sources]
                ),
            )
            for hit, each in zip([*answering, *judged], features, strict=True):
                pairs.append(Pair(index, question["doc_id"], each, hit in answering, kind))
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
