"""Two reasons to pass a conversation to a person that no policy needs to spell out: the
customer asks for one (in any of the languages Keel's customers write), or is upset.

Both are matched by meaning against these examples (`rails.rules`), like a policy's
escalation rules; shouting in capitals counts as upset too.
"""

import re

from assistant.policy_rules import Rule

ASKS_FOR_PERSON = Rule(
    label="Asks for a person",
    examples=(
        "I want to talk to a real person",
        "Can I speak to a human, not a bot?",
        "Get me a human",
        "Connect me to an agent",
        "Let me talk to someone from your team",
        "Give me a manager",
        "Is there a person I can chat with?",
        "Quiero hablar con una persona",
        "Quero falar com um atendente humano",
        "Je veux parler à un humain",
        "Ich möchte mit einem Menschen sprechen",
        "Voglio parlare con un operatore",
        "Ik wil een medewerker spreken",
        "Chcę rozmawiać z człowiekiem",
    ),
)
UPSET = Rule(
    label="Upset",
    examples=(
        "This is ridiculous, I am done with you people",
        "Worst service ever, I am furious",
        "Nobody answers and I am sick of waiting",
        "You keep sending me the same useless article",
        "I am extremely angry about this",
    ),
)
_LETTERS = re.compile(r"[^\W\d_]")
SHOUTING_SHARE = 0.7  # of the letters, in capitals
SHOUTING_MIN_LETTERS = 20


def shouting(text: str) -> bool:
    letters = _LETTERS.findall(text)
    return len(letters) >= SHOUTING_MIN_LETTERS and (
        sum(letter.isupper() for letter in letters) / len(letters) >= SHOUTING_SHARE
    )
