"""Keel's built-in escalation rules: the situations any company hands to a person, in the
languages Keel's customers write, with the look-alikes that must not be handed over and,
where safety is at stake, a message the customer gets before the handover.

Plain data, matched by meaning like a policy's own escalation rules (`rails.rules`). The
policy editor lists them; a policy switches any of them off by key (`builtin_rules_off`).
Shouting in capitals counts as upset too, and a request that names a data-protection
law as a personal-data request.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from assistant.models import Handoff
from assistant.rails.policy_rules import Rule


@dataclass(frozen=True)
class Intent:
    key: str  # what a policy lists to switch it off; never renamed
    rule: Rule
    reason: Handoff.Reason = Handoff.Reason.POLICY_RULE

    @property
    def look_alikes(self) -> tuple[str, ...]:
        """Its own counter-examples, without the everyday questions all of them share."""
        return tuple(text for text in self.rule.counter_examples if text not in ORDINARY_QUESTIONS)


# Everyday questions, in the languages of the examples: a message nearer to one of them than
# to a rule's examples is a question to answer (MiniLM, trained on English, places short
# foreign messages near any foreign example).
ORDINARY_QUESTIONS = (
    "How long does delivery take?",
    "¿Cuánto tarda el envío?",
    "Wie lange dauert die Lieferung?",
    "Combien de temps prend la livraison ?",
    "Quanto tempo demora a entrega?",
    "Quanto tempo ci vuole per la consegna?",
    "Hoe lang duurt de levering?",
    "Hoe kan ik een product terugsturen?",
    "¿Cómo devuelvo un producto?",
    "Wie kann ich meine Bestellung ändern?",
)
INTENTS = (
    Intent(
        key="asks_for_person",
        reason=Handoff.Reason.ASKED,
        rule=Rule(
            label="Asks for a person",
            examples=(
                "I want to talk to a real person",
                "Can I speak to a human, not a bot?",
                "Put me through to someone",
                "Put me through to a real human",
                "Agent please",
                "I need to speak with a representative",
                "Transfer me to customer service",
                "Connect me to an agent",
                "Can I talk to someone from your team?",
                "I want someone from your staff to help me",
                "Give me a manager",
                "Quiero hablar con una persona",
                "Ich möchte mit einem Menschen sprechen",
                "Ich will mit einem Mitarbeiter sprechen",
                "Ich möchte mit jemandem aus Ihrem Team reden",
                "Je veux parler à un humain",
                "Quero falar com um atendente humano",
                "Voglio parlare con un operatore",
                "Ik wil een medewerker spreken",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "Are you a bot?",
                "How do I add another person to my account?",
                "Can someone else collect my order for me?",
                "What are your opening hours?",
            ),
        ),
    ),
    Intent(
        key="upset",
        reason=Handoff.Reason.ANGRY,
        rule=Rule(
            label="Upset",
            examples=(
                "I am really angry",
                "This is unacceptable",
                "Worst service ever, I am furious",
                "I am sick of waiting and nobody answers",
                "This is ridiculous, I am done with you people",
                "I am fed up with this",
                "I have had enough, nobody ever fixes anything",
                "I have contacted you four times about the same problem",
                "I spent hours on hold and still nobody has helped me",
                "Estoy muy enfadado, esto es inaceptable",
                "Ich bin wirklich wütend, das ist inakzeptabel",
                "Je suis vraiment en colère, c'est inacceptable",
                "Estou muito irritado, isto é inaceitável",
                "Sono davvero arrabbiato, è inaccettabile",
                "Ik ben echt boos, dit is onacceptabel",
                "Ya estoy harto, es la cuarta vez que escribo",
                "Ich habe die Nase voll, ich melde mich schon zum vierten Mal",
                "J'en ai assez, c'est la quatrième fois que je vous contacte",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "Can I return an item I am not happy with?",
                "What can I do if I am unhappy with my purchase?",
                "Thank you, that was helpful",
            ),
        ),
    ),
    Intent(
        key="account_closure",
        rule=Rule(
            label="Account closure",
            examples=(
                "Close my account",
                "I want to cancel my account now",
                "Please delete my account, I am leaving",
                "Terminate my contract",
                "Cancel my subscription and stop charging me",
                "Cierren mi cuenta",
                "Quiero dar de baja mi contrato",
                "Bitte kündigen Sie mein Konto",
                "Ich will mein Abo kündigen",
                "Kündigen Sie meinen Vertrag",
                "Fermez mon compte",
                "Je veux résilier mon abonnement",
                "Encerrem a minha conta",
                "Chiudete il mio account",
                "Sluit mijn account",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "How do I close the app?",
                "How do I close this chat window?",
                "How do I log out of my account?",
                "How do I delete a saved address?",
                "How do I remove an item from my basket?",
                "Can I cancel an order?",
                "How does cancelling a subscription work?",
            ),
        ),
    ),
    Intent(
        key="personal_data_request",
        rule=Rule(
            label="Personal data request",
            examples=(
                "Send me all the data you hold on me",
                "Delete my personal data",
                "I want a copy of my personal information",
                "Erase everything you store about me",
                "Correct the personal details you keep on me",
                "Send me everything you have stored about me",
                "I request a copy of all the personal data your company holds about me",
                "Under the data protection law, give me access to my data",
                "Envíenme todos los datos que tienen sobre mí",
                "Löschen Sie meine persönlichen Daten",
                "Ich will, dass alle meine Daten gelöscht werden",
                "Ich verlange Auskunft über meine gespeicherten Daten",
                "Envoyez-moi toutes les données que vous avez sur moi",
                "Supprimez toutes mes données",
                "Apaguem os meus dados pessoais",
                "Cancellate i miei dati personali",
                "Stuur me alle gegevens die u over mij heeft",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "How do I delete a saved address?",
                "How do I delete a saved card?",
                "How do I change my e-mail address?",
                "How do I clear my search history?",
                "What personal data do you collect about customers?",
                "How do I ask for a copy of my data?",
                "How do I update my delivery address?",
            ),
        ),
    ),
    Intent(
        key="legal_threat",
        rule=Rule(
            label="Legal threat",
            examples=(
                "I am going to sue you",
                "My lawyer will contact you",
                "I will take you to court",
                "I am taking legal action against your company",
                "I will take legal action over this",
                "I am reporting you to the consumer protection authority",
                "Voy a demandarles",
                "Mein Anwalt wird sich bei Ihnen melden",
                "Je vais porter plainte contre vous",
                "Vou processar vocês",
                "Vi farò causa",
                "Ik stap naar de rechter",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "What are my rights under the warranty?",
                "Where can I read your terms and conditions?",
                "Do I need a receipt to make a return?",
            ),
        ),
    ),
    Intent(
        key="fraud",
        rule=Rule(
            label="Fraud or account takeover",
            examples=(
                "Someone hacked my account",
                "There are orders on my account I did not make",
                "My password was changed and it was not me",
                "I was charged for something I never bought, I think it is fraud",
                "Someone added a user to my account without my permission",
                "There are subscriptions on my account that I never signed up for",
                "Alguien ha entrado en mi cuenta",
                "Jemand hat mein Konto gehackt",
                "Auf meinem Konto gibt es Bestellungen, die ich nicht gemacht habe",
                "Quelqu'un a piraté mon compte",
                "Alguém invadiu a minha conta",
                "Qualcuno ha violato il mio account",
                "Iemand heeft mijn account gehackt",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "How do I change my password?",
                "I forgot my password",
                "How do I turn on two-step verification?",
                "How do I recognise a phishing e-mail?",
            ),
        ),
    ),
    Intent(
        key="billing_dispute",
        rule=Rule(
            label="Billing dispute",
            examples=(
                "I was charged twice for the same order",
                "Take this fee off my bill",
                "I want this charge refunded",
                "Remove the charges I never agreed to",
                "My bill is wrong, I was overcharged",
                "I dispute this invoice",
                "You took money from my account without asking",
                "Me han cobrado dos veces",
                "Ich wurde doppelt belastet",
                "On m'a facturé deux fois",
                "Cobraram-me em duplicado",
                "Mi avete addebitato due volte",
                "Er is twee keer afgeschreven",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "How do I pay my bill?",
                "When is my bill due?",
                "How do refunds work?",
                "What payment methods do you accept?",
                "Why does my first bill look higher than usual?",
            ),
        ),
    ),
    Intent(
        key="press",
        rule=Rule(
            label="Press or investor enquiry",
            examples=(
                "I am a journalist and would like a statement from your company",
                "I am writing an article and need a comment from your press office",
                "Can your spokesperson comment on the outage?",
                "I am an investor and want an official comment from the company",
                "Soy periodista y quiero una declaración de la empresa",
                "Ich bin Journalist und bitte um eine Stellungnahme",
                "Je suis journaliste et souhaite une déclaration officielle",
                "Sou jornalista e gostaria de uma declaração da empresa",
                "Sono un giornalista e vorrei una dichiarazione dell'azienda",
                "Ik ben journalist en wil graag een verklaring van het bedrijf",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "Do you have a newsletter?",
                "Where can I read your latest news?",
                "Where can I find your annual report?",
            ),
        ),
    ),
    Intent(
        key="bereavement",
        rule=Rule(
            label="Bereavement",
            examples=(
                "My husband passed away and the account is in his name",
                "The account holder has died",
                "My mother died, what happens to her account?",
                "My wife died and her subscription is still running",
                "Mi padre ha fallecido",
                "Mein Vater ist verstorben",
                "Ma mère est décédée",
                "O meu pai faleceu",
                "Mia madre è morta",
                "Mijn vader is overleden",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "My phone died, how do I restart it?",
                "The battery died overnight",
                "Can I transfer my account to someone else?",
            ),
            say=_("I'm very sorry for your loss."),
        ),
    ),
    Intent(
        key="device_danger",
        rule=Rule(
            label="Device overheating, smoke or fire",
            examples=(
                "My device is smoking",
                "The battery is smoking",
                "It is overheating and smoking",
                "The battery is swelling",
                "It is so hot I cannot touch it",
                "There is a burning smell from the charger",
                "It caught fire",
                "Mi teléfono está echando humo",
                "Der Akku ist aufgebläht",
                "Mon chargeur sent le brûlé",
                "O aparelho pegou fogo",
                "La batteria si è gonfiata",
                "Het apparaat is oververhit en rookt",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "My phone gets warm when gaming, is that normal?",
                "How hot may a device get while charging?",
                "At what temperature should I store the battery?",
                "Does fast charging make the device warm?",
            ),
            say=_(
                "For your safety: unplug the device, stop using it and move away from it, "
                "keeping it clear of anything that can burn. If there is smoke or fire, or "
                "anyone is hurt, leave the area and call your local emergency number first."
            ),
        ),
    ),
    Intent(
        key="injury",
        rule=Rule(
            label="Injury",
            examples=(
                "I got hurt using your product",
                "My child was injured",
                "Someone broke a bone because of it",
                "It burned my hand",
                "I cut myself on it",
                "I was injured by the product",
                "Me he hecho daño con el producto",
                "Ich habe mich verletzt",
                "Je me suis blessé",
                "Eu me machuquei com o produto",
                "Mi sono fatto male",
                "Ik heb me bezeerd",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "Is this product safe for children?",
                "My screen is cracked, is that covered?",
                "Does the warranty cover damage?",
            ),
            say=_(
                "If anyone is hurt or in danger, call your local emergency number now, "
                "before anything else."
            ),
        ),
    ),
    Intent(
        key="emergency_call_failed",
        rule=Rule(
            label="Emergency call failed",
            examples=(
                "I could not call the emergency number",
                "My emergency call did not go through",
                "My phone would not let me call for help in an emergency",
                "No pude llamar a emergencias",
                "Ich konnte den Notruf nicht erreichen",
                "Je n'ai pas pu appeler les urgences",
                "Não consegui ligar para a emergência",
                "Non riuscivo a chiamare i soccorsi",
                "Ik kon het alarmnummer niet bellen",
            ),
            counter_examples=(
                *ORDINARY_QUESTIONS,
                "Can I call the emergency number from abroad?",
                "How do I set up an emergency contact?",
            ),
            say=_(
                "If you are in danger now, call your local emergency number right away from "
                "any other phone you can reach."
            ),
        ),
    ),
)
INTENT_CHOICES = [(intent.key, intent.rule.label) for intent in INTENTS]
_LETTERS = re.compile(r"[^\W\d_]")
SHOUTING_SHARE = 0.7  # of the letters, in capitals
SHOUTING_MIN_LETTERS = 20


def intents_on(*, off: list[str]) -> list[Intent]:
    """The built-in rules a policy keeps, `off` being the keys it switched off."""
    return [intent for intent in INTENTS if intent.key not in off]


# A request that names a data-protection law is one for the customer's data, however much
# else it says ("This is a formal request under the GDPR: ...").
_PRIVACY_LAW = re.compile(
    r"\b(?:GDPR|UK GDPR|CCPA|CPRA|DSGVO|RGPD|LGPD|AVG|DPA 2018|"
    r"data protection (?:act|law|regulation)s?|privacy (?:act|law)s?|"
    r"Datenschutz-?Grundverordnung|Datenschutzgesetz\w*|ley de protección de datos|"
    r"loi informatique et libertés|lei geral de proteção de dados|codice della privacy|"
    r"Algemene verordening gegevensbescherming)\b",
    re.IGNORECASE,
)


def names_privacy_law(text: str) -> bool:
    return bool(_PRIVACY_LAW.search(text))


def shouting(text: str) -> bool:
    letters = _LETTERS.findall(text)
    return len(letters) >= SHOUTING_MIN_LETTERS and (
        sum(letter.isupper() for letter in letters) / len(letters) >= SHOUTING_SHARE
    )
