"""Is a customer message a request or report about their own situation, or a question for
information?

Escalation rules are written as requests and reports ("delete my data", "my battery is
swelling", "someone took over my account"): someone must act or check. A question about
the same thing ("what happens to my data if I close my account?", "what should I do if
my battery ever swells?", "how do I protect my account?") is the help center's to answer,
and sits just as near the rule's examples by meaning. The other way round, a real request
said at length, formally or as a demand ("This is a formal request under the data
protection law: send me everything you hold on me") sits further from a rule's short
examples than a short one. So the rails read each message and set the rules' bar by the
reading (`input_rails`): a request or report fires a rule a little below the bar, a
question for information only well above it, a hypothetical one further still, anything
else at the bar.

Explicit cues first, in the seven languages of the built-in rules: a report of what
happened ("I never added", "without my permission", "you charged me", "someone has"), a
hypothetical ("if I ever", "what happens if", "in case"), a request to the company
("I want", "please cancel", "can you send me", "formal request", "right now"), then a
how-to or is-it-normal question. Where none applies, a logistic regression over the
sentence vectors the rails already computed, fitted at start on Keel's own examples
(`request_reading_examples`), decides only when it is sure.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.rails.request_reading_examples import INFORMATION_QUESTIONS, REQUESTS
from knowledge.embeddings import texts_embed

REQUEST = "request"  # a request, demand or report about the customer's own situation
INFORMATION = "information"  # how it works, how do I, is it normal
HYPOTHETICAL = "hypothetical"  # what would happen if, if I ever: about what has not happened
UNCLEAR = ""
SURE = 0.85  # the classifier's probability of one reading above which it decides
REGULARISATION = 3.0  # LogisticRegression's C: the examples are few


@dataclass(frozen=True)
class Reading:
    kind: str  # REQUEST, INFORMATION, HYPOTHETICAL or UNCLEAR
    why: str  # the cue that decided, or the classifier's probability of a request


def _cues(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


_NOT_KNOWING = (
    r"(?!\s+(?:to\s+)?(?:know|ask|understand|learn|find out|check whether|see if|saber|"
    r"preguntar|wissen|fragen|erfahren|savoir|demander|comprendre|perguntar|entender|sapere|"
    r"chiedere|capire|weten|vragen|begrijpen))"
)
# What happened to the customer: someone must check, whatever the sentence ends with.
_REPORTS = _cues(
    r"\b(?:I|we)\s+(?:never|didn't|did not|haven't|have not|hadn't)\s+(?:\w+\s+)?"
    r"(?:add|order|made|make|buy|bought|authori[sz]e|sign|agree|ask|request|use|open|book)",
    r"\b(?:not|wasn't|was not)\s+(?:me|us)\b|\b(?:none of us|nobody|no one)\s+(?:here\s+)?"
    r"(?:added|ordered|made|authori[sz]ed|asked for|signed up)",
    r"\bwithout\s+my\s+(?:permission|consent|knowledge|approval|authori[sz]ation)",
    r"\b(?:someone|somebody|a stranger)\s+(?:has|have|had|just|took|hacked|changed|ported|"
    r"used|opened|logged|got into|accessed|stole|ordered|added|is using)\b",
    r"\b(?:you|you've|you have|they)\s+(?:\w+\s+)?(?:charged|billed|debited|overcharged|"
    r"took money)",
    r"\b(?:I|we)\s+(?:was|were|got|have been|'ve been|am being)\s+(?:\w+\s+)?"
    r"(?:charged|billed|overcharged|debited|scammed|hacked|defrauded)",
    r"\b(?:third|fourth|fifth|sixth|\d+(?:st|nd|rd|th))\s+time\b|\b(?:fed up|had enough|"
    r"sick and tired|furious|outraged|disgusted)\b",
    # es, de, fr, pt, it, nl: never did it, without my consent, someone has
    r"\bnunca\s+(?:he|hemos|pedí|añadí|autoricé|contraté|adicionei|pedi|autorizei)\b",
    r"\bsin\s+mi\s+(?:permiso|consentimiento|autorización)|\bsem\s+(?:a\s+)?minha\s+"
    r"(?:permissão|autorização)|\bsenza\s+il\s+mio\s+(?:consenso|permesso)",
    r"\bohne\s+meine\s+(?:Zustimmung|Erlaubnis|Einwilligung)|\bsans\s+mon\s+"
    r"(?:accord|autorisation|consentement)|\bzonder\s+mijn\s+toestemming",
    r"\b(?:alguien|alguém|jemand|quelqu'un|qualcuno|iemand)\s+(?:ha|hat|a|heeft|me|mi)\s",
    r"\bnie\s+(?:bestellt|hinzugefügt|autorisiert|abgeschlossen)|\bje\s+n'ai\s+jamais|"
    r"\bnon\s+ho\s+mai|\bik\s+heb\s+(?:\w+\s+)?nooit",
)
# A question about what would happen, not about what has.
_HYPOTHETICAL = _cues(
    r"\bif\b[^.?!]{0,60}\bever\b|\bever\s+(?:want|need|decide|wish)",
    r"\bwhat\s+(?:happens|would happen|will happen|if)\b|\bin\s+case\b|\bsuppose\b|"
    r"\bhypothetically\b|\bif\s+I\s+(?:wanted|were|was|decided)\s+to\b",
    r"^\W*if\b[^?]*\?\s*$",
    r"\bqué\s+(?:pasa|pasaría|ocurre|sucede)\s+(?:con\s+\w+(?:\s+\w+)?\s+)?si\b|"
    r"\bsi\s+alguna\s+vez\b|\ben\s+caso\s+de\b",
    r"\bwas\s+passiert\b|\bfalls\s+ich\s+(?:jemals|einmal|irgendwann)\b|\bim\s+Fall,?\s+dass\b",
    r"\bque\s+se\s+passe-t-il\b|\bsi\s+jamais\b|\bau\s+cas\s+où\b",
    r"\bo\s+que\s+acontece\b|\bse\s+algum\s+dia\b|\bcaso\s+eu\b",
    r"\bcosa\s+succede\b|\bse\s+mai\b|\bnel\s+caso\s+(?:in\s+cui|che)\b",
    r"\bwat\s+gebeurt\s+er\b|\bals\s+ik\s+ooit\b|\bstel\s+dat\b",
)
# A request or demand addressed to the company.
_REQUESTS = _cues(
    rf"\b(?:I|we|and)\s+(?:want|would like|'d like|need|demand|expect|insist|require|"
    rf"(?:hereby\s+)?request){_NOT_KNOWING}",
    r"(?:^|[.!?:;,]\s*|\bplease\s+|\bkindly\s+|\b(?:can|could|would|will)\s+you\s+(?:please\s+)?)"
    r"(?:close|cancel|delete|erase|remove|send|refund|fix|stop|take|give|transfer|put|"
    r"connect|waive|credit|correct|reverse|terminate|end|get)\b(?!\s+(?:a\s+look|to))",
    r"\b(?:formal|official)\s+(?:request|complaint|demand|notice)\b|\bI\s+hereby\b|"
    r"\bformally\s+request",
    r"\b(?:right now|immediately|right away|straight away|today|asap|at once)\b[.!]*\s*$",
    r"\bcan\s+I\s+(?:get|have)\s+(?:a|an|the)\s+(?:statement|comment|person|human|agent|manager)",
    # es, de, fr, pt, it, nl
    rf"\b(?:quiero|quisiera|necesito|exijo|solicito){_NOT_KNOWING}|\bsolicitud\s+formal\b",
    rf"\bich\s+(?:möchte|will|verlange|fordere|brauche|beantrage){_NOT_KNOWING}|"
    r"\b(?:kündigen|löschen|schicken|senden|erstatten|stornieren|sperren)\s+Sie\b|"
    r"\b(?:förmlich|formell|hiermit)\b",
    rf"\b(?:je\s+veux|je\s+voudrais|j'exige|je\s+souhaite|je\s+demande){_NOT_KNOWING}|"
    r"\bveuillez\b|\bdemande\s+formelle\b",
    rf"\b(?:quero|gostaria\s+de|preciso|exijo|solicito){_NOT_KNOWING}|\bpedido\s+formal\b",
    rf"\b(?:voglio|vorrei|esigo|pretendo|chiedo){_NOT_KNOWING}|\brichiesta\s+formale\b",
    rf"\bik\s+(?:wil|zou\s+graag|eis|verzoek){_NOT_KNOWING}|\bformeel\s+verzoek\b",
)
# How it works, how to do something, whether something is normal.
_HOW_TO = _cues(
    r"\bhow\s+(?:do|can|could|would|should|does|long|much|often)\b|\bhow\s+to\b|"
    # What the company's rules give or ask of the customer: "do I get a credit?", "do I
    # have to ask for it?" ask how a policy works, not for it to be applied.
    r"\b(?:do|will|would)\s+(?:I|we)\s+(?:get|receive|qualify|have\s+to|need\s+to)\b|"
    r"\b(?:am|are)\s+(?:I|we)\s+(?:entitled|eligible)\b|"
    r"\bis\s+(?:it|that|this)\s+(?:normal|safe|possible|ok|okay|allowed|true)\b|"
    r"\b(?:where|when)\s+(?:do|can|should)\s+I\b|"
    r"\bwhat\s+(?:is|are|does)\b(?!\s+(?:going on|happening|this|that)\b)",
    r"\bc[oó]mo\s+(?:puedo|se|hago|funciona)\b|\bes\s+normal\b",
    r"\bwie\s+(?:kann|funktioniert|geht|lange|viel)\b|\bist\s+(?:das|es)\s+normal\b",
    r"\bcomment\s+(?:puis-je|faire|fonctionne|faut-il)\b|\best-ce\s+normal\b",
    r"\bcomo\s+(?:posso|faço|funciona)\b|\bé\s+normal\b",
    r"\bcome\s+(?:posso|faccio|si|funziona)\b|\bè\s+normale\b",
    r"\bhoe\s+(?:kan|moet|werkt|lang)\b|\bis\s+(?:dat|het)\s+normaal\b",
)

# Whose phone, account, data or whereabouts a question is about. A refused topic yields to
# the help center's confident answer only for the customer's own ("how do I block my
# stolen phone?", "how do I get a copy of the data you hold on me?"), never for another
# person's ("my partner's phone", "someone else's texts"), however politely it is asked
# (`input_rails`). A child on the customer's account is theirs to look after.
_SOMEONE_ELSE = _cues(
    r"\b(?:someone|somebody|anyone|anybody)(?:\s+else)?'s\b|\b(?:someone|somebody)\s+else\b|"
    r"\bother\s+(?:people|customers|users)\b|\banother\s+(?:person|customer|user|member)\b|"
    r"\ba\s+stranger\b|\bwhose\b|\bthe\s+owner\s+of\b|\bwithout\s+(?:him|her|them)\s+knowing\b|"
    r"\b(?:my|our)\s+(?:ex|former|partner|wife|husband|spouse|girlfriend|boyfriend|fianc[ée]e?|"
    r"boss|employer|employee|colleague|co-?worker|neighbou?r|friend|flatmate|roommate|"
    r"landlord|tenant)\b",
    r"\bde\s+(?:otra\s+persona|alguien|otro\s+cliente)\b|\bmi\s+(?:pareja|ex|esposa|esposo|"
    r"novia|novio|jefe|vecino|vecina)\b",
    r"\bjemand(?:em|en)?\s+anderen?\b|\bmeine[rsmn]?\s+(?:Partnerin|Partner|Frau|Mannes|Mann|"
    r"Freundin|Freund|Ex|Chef|Nachbarin|Nachbar)\b",
    r"\bde\s+quelqu'un\s+d'autre\b|\bd'une\s+autre\s+personne\b|\b(?:mon|ma)\s+(?:partenaire|"
    r"femme|mari|copine|copain|ex|patron|voisin|voisine)\b",
    r"\bde\s+(?:outra\s+pessoa|alguém)\b|\b(?:meu|minha)\s+(?:parceir[oa]|mulher|marido|"
    r"namorad[oa]|ex|chefe|vizinh[oa])\b",
    r"\bdi\s+(?:un'altra\s+persona|qualcun\s+altro)\b|\b(?:mio|mia)\s+(?:partner|moglie|marito|"
    r"ragazz[oa]|ex|capo|vicin[oa])\b",
    r"\bvan\s+iemand\s+anders\b|\bmijn\s+(?:partner|vrouw|man|vriendin|vriend|ex|baas|buurman|"
    r"buurvrouw)\b",
)
# The customer's own account, device or data, in the languages of the built-in rules.
_OWN = _cues(
    r"\b(?:my|mine|me|our|us)\b",
    r"\b(?:mi|mis|mío|mía)\b",
    r"\b(?:mein|meine|meinen|meinem|meiner|meines|mich|mir)\b",
    r"\b(?:mon|ma|mes|moi)\b",
    r"\b(?:meu|minha|meus|minhas|mim)\b",
    r"\b(?:mio|mia|miei|mie)\b",
    r"\b(?:mijn|mij)\b",
)


def own_how_to(*, text: str, reading: Reading) -> bool:
    """A question for information about the customer's own account, device or data, that
    names no other person: what a refused topic may yield on (`input_rails`)."""
    return (
        reading.kind in (INFORMATION, HYPOTHETICAL)
        and bool(_OWN.search(text))
        and not _SOMEONE_ELSE.search(text)
    )


def piece_readings(*, texts: Sequence[str], vectors: np.ndarray) -> list[Reading]:
    """How each piece of a message reads (`pieces`: the whole message first, then its
    sentences). The whole is a request when one of its sentences is: "My battery is
    swelling. What happens if it bursts?" reports a danger, whatever the last sentence
    asks."""
    requests = _classifier().predict_proba(vectors)[:, 1]
    readings = [_reading(text, request=float(p)) for text, p in zip(texts, requests, strict=True)]
    reported = next((reading for reading in readings if reading.kind == REQUEST), None)
    if reported:
        return [reported, *readings[1:]]
    # A sentence that sets out the situation a how-to question asks about ("My phone gets
    # warm when I stream. Is that normal?") is read with the question; before a what-if
    # question it is what has happened, and keeps its own reading.
    whole = readings[0]
    return [whole] + [
        whole if reading.kind == UNCLEAR and whole.kind == INFORMATION else reading
        for reading in readings[1:]
    ]


def _reading(text: str, *, request: float) -> Reading:
    for kind, cues in (
        (REQUEST, _REPORTS),
        (HYPOTHETICAL, _HYPOTHETICAL),
        (REQUEST, _REQUESTS),
        (INFORMATION, _HOW_TO),
    ):
        if found := cues.search(text):
            return Reading(kind=kind, why=found.group().strip())
    kind = REQUEST if request >= SURE else INFORMATION if request <= 1 - SURE else UNCLEAR
    return Reading(kind=kind, why=f"classifier {request:.2f}")


@cache
def _classifier() -> LogisticRegression:
    return LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000).fit(
        texts_embed(texts=[*REQUESTS, *INFORMATION_QUESTIONS]),
        [1] * len(REQUESTS) + [0] * len(INFORMATION_QUESTIONS),
    )
