"""An admin's test question: the passages the assistant's own retrieval finds for it in a
knowledge base, with their scores, and whether the assistant would answer from them.
Nothing is stored; the question is embedded outside any transaction, as a customer's is."""

from dataclasses import dataclass

from assistant.answering.answerability import Judgement, answerability_judge, answerable_below
from assistant.answering.pipeline import MIN_SOURCE_SIMILARITY, SOURCES_PER_ANSWER
from assistant.conversations.selectors import policy_in_force
from knowledge.models import KnowledgeBase
from knowledge.search import Hit, chunk_search


@dataclass(frozen=True)
class QuestionTest:
    question: str
    hits: list[Hit]  # best first, as many as the assistant is given
    best_similarity: float  # the best passage's cosine similarity to the question
    judgement: Judgement  # does the best passage answer it (as the pipeline judges)?
    needed: float  # the judgement the policy in force asks for

    min_similarity: float = MIN_SOURCE_SIMILARITY  # below it, no passage is on the subject

    @property
    def on_subject(self) -> bool:
        return self.best_similarity >= self.min_similarity

    @property
    def answered(self) -> bool:
        return self.on_subject and self.judgement.score >= self.needed


def question_test(*, knowledge_base: KnowledgeBase, question: str) -> QuestionTest:
    """The answer pipeline's steps up to generation (`pipeline._retrieve`, `_good_enough`,
    `answerability_judge`), on this knowledge base alone."""
    hits = chunk_search(knowledge_bases=[knowledge_base], query=question, k=SOURCES_PER_ANSWER)
    best = max((hit.similarity or 0.0 for hit in hits), default=0.0)
    policy = policy_in_force(workspace_id=knowledge_base.workspace_id)
    return QuestionTest(
        question=question,
        hits=hits,
        best_similarity=best,
        judgement=answerability_judge(
            question=question, sources=hits if best >= MIN_SOURCE_SIMILARITY else []
        ),
        needed=answerable_below(confidence_threshold=policy.confidence_threshold),
    )
