"""Keel's built-in escalation rules, recognised in long, specific messages too.

A customer who writes three sentences about what happened ("the adapter sparked and the
cable is blackened...") matches no short example of a rule closely: the nearest-example
match (`rails.rules`) scores such messages around 0.4-0.58, below INTENT_SIMILARITY. So a
logistic regression, multinomial over the built-in rules and an "ordinary" class, is fitted
at start on the MiniLM embeddings of the rules' own examples and of the long examples
below, against their counter-examples and the long ordinary look-alikes below, like the
injection rail (`rails.injection`): no model call per message beyond the embeddings its
pieces already have. A built-in rule fires when either says so.
"""

from functools import cache

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.rails.intents import INTENTS, Intent
from knowledge.embeddings import texts_embed

# The probability that a piece is one of the rules the policy keeps. Chosen on Keel's own
# held-out messages (tests/test_intent_classifier.py): its long ordinary look-alikes score
# 0.89 at most; at 0.90, 9 of its 14 long requests go to a person (1 before), none of the
# look-alikes. On Keel's red-team suite and the demo's questions (`make bench`, section
# rails): 13 of 13 escalation cases (7 before), 5 of 62 ordinary questions (2 before).
THRESHOLD = 0.90
REGULARISATION = 10.0  # LogisticRegression's C: of 3, 10 and 30, the best on those
ORDINARY = "ordinary"

# Long, specific messages of each rule, written for Keel (other businesses, several
# languages): what happened, in the customer's words, besides the request itself.
LONG_EXAMPLES = {
    "asks_for_person": (
        "I have explained this three times already and the answers don't fit my case, "
        "I would like someone from your support team to look at it.",
        "This is about a billing mistake on my last two invoices and I'd rather sort it "
        "out with a member of staff than with a chat.",
        "Is there any way to reach an actual employee? My delivery problem is complicated "
        "and the articles do not cover it.",
        "Ich habe eine Frage zu meiner Rechnung, die sich nicht einfach erklären lässt, "
        "und möchte das mit einem Mitarbeiter klären.",
        "J'ai déjà essayé toutes les solutions de l'aide en ligne, pouvez-vous me mettre "
        "en relation avec un conseiller ?",
        "Llevo una semana con este problema de conexión y necesito que lo revise alguien "
        "de su equipo, no un asistente automático.",
        "Preciso que um funcionário verifique a minha encomenda, o assistente não entende "
        "o meu problema.",
    ),
    "upset": (
        "I have been charged twice, waited ten days for an answer and nobody has bothered "
        "to reply. This is a disgrace.",
        "Every single update breaks something else in the app and I have had enough of "
        "paying for this.",
        "Your courier left my parcel in the rain again and the replacement is late too. "
        "I am so angry.",
        "Three calls, two emails and still no refund. Your service is a joke and I am "
        "losing my patience.",
        "Ich warte seit drei Wochen auf meine Erstattung und niemand meldet sich, ich bin "
        "stinksauer.",
        "C'est la troisième fois que ma commande arrive abîmée, j'en ai vraiment marre de "
        "votre service.",
        "Llevo un mes esperando el reembolso y nadie me responde, estoy harto de ustedes.",
        "Sono stufo: il servizio non funziona da giorni e nessuno mi risponde.",
        "Ik wacht al weken op een antwoord en word van het kastje naar de muur gestuurd, "
        "ik ben het spuugzat.",
    ),
    "account_closure": (
        "After the latest price increase I no longer want to be a customer, please "
        "terminate my account and stop all billing.",
        "We are moving our team to another provider at the end of the month, so please "
        "shut down our company account then.",
        "I've decided to leave your service for good; cancel my membership and close the "
        "account linked to this email.",
        "Bitte schließen Sie mein Kundenkonto zum Monatsende, ich wechsle zu einem anderen "
        "Anbieter.",
        "Je déménage à l'étranger et je n'utiliserai plus votre service, merci de fermer "
        "définitivement mon compte.",
        "Quiero dar de baja mi cuenta y que no me cobren nada más a partir de este mes.",
        "Por favor encerrem definitivamente a minha conta, já não preciso do serviço.",
        "We sold the shop last week and will not need the service any more, so please end the "
        "account and all our logins.",
        "I'm not renewing: close my customer account when the current period ends and remove my "
        "saved card.",
    ),
    "personal_data_request": (
        "I would like to exercise my right of access: please provide every record linked "
        "to my customer number, including call logs and payment history.",
        "Please remove all my personal details from your systems, including my address, "
        "phone number and purchase history, and confirm when it is done.",
        "Your records still show my old surname and a wrong date of birth; correct the "
        "personal data you keep on me.",
        "Stop using my personal information for marketing and erase the profile you have "
        "built about me.",
        "Ich verlange gemäß DSGVO Auskunft über alle Daten, die Sie über mich gespeichert haben.",
        "Je demande l'effacement de toutes mes données personnelles de vos fichiers "
        "clients, conformément au RGPD.",
        "Solicito una copia de todos los datos personales que su empresa guarda sobre mí.",
        "Chiedo la cancellazione di tutti i miei dati personali dai vostri archivi.",
    ),
    "legal_threat": (
        "If the money is not back in my account by Friday I will hand this over to my "
        "solicitor and see you in court.",
        "I have kept every email and I am filing a complaint with the ombudsman about how "
        "you treated me.",
        "This contract was mis-sold to me and I'm prepared to take your company to the "
        "small claims court.",
        "Mein Anwalt prüft bereits, ob wir wegen der falschen Abrechnung Klage gegen Ihr "
        "Unternehmen einreichen.",
        "Si vous ne remboursez pas, je saisirai le tribunal et mon avocat vous contactera.",
        "Voy a presentar una denuncia ante la oficina del consumidor si no me devuelven el dinero.",
        "Se não resolverem isto, vou apresentar queixa e avançar com um processo judicial.",
    ),
    "fraud": (
        "I just got an email saying my login details were changed from another country, "
        "and now I can't get into my account.",
        "My statement shows three payments to your company that I never authorised, "
        "someone must be using my card.",
        "Somebody has been logging in to my profile and changed the delivery address on "
        "my last order.",
        "I received a password reset code I never asked for and then my saved card was "
        "used for a purchase.",
        "Auf meinem Konto tauchen Abbuchungen auf, die ich nicht getätigt habe, ich glaube "
        "jemand nutzt meine Daten.",
        "Quelqu'un a utilisé ma carte enregistrée pour passer des commandes que je n'ai "
        "jamais faites.",
        "Han cambiado el correo de mi cuenta sin mi permiso y ya no puedo entrar.",
        "Er zijn betalingen van mijn rekening gegaan die ik nooit heb gedaan.",
        "Someone placed an order in my name and had it sent to an address I have never lived at.",
        "My account shows purchases from a phone I don't own, and the recovery email is no longer "
        "mine.",
    ),
    "bereavement": (
        "My grandmother passed away last month and her broadband contract is still being "
        "charged to her bank account.",
        "I'm writing on behalf of my late father's estate; what do we need to close his "
        "accounts with you?",
        "My partner died suddenly and I don't know the password to the account where our "
        "photos are stored.",
        "Mein Mann ist vor zwei Wochen gestorben und sein Vertrag läuft noch auf seinen Namen.",
        "Mon frère est décédé et je dois résilier ses abonnements, comment faire ?",
        "Mi madre murió hace poco y sigue llegando su factura mensual.",
        "O meu marido faleceu e preciso de tratar da conta dele.",
        "My brother died in an accident and his contract with you is still being paid from his "
        "account; I am dealing with his affairs.",
        "Since my wife's funeral the renewal reminders for her membership keep coming and I can't "
        "bear it.",
    ),
    "device_danger": (
        "While charging overnight the power bank got extremely hot and now the case has "
        "bulged and smells of burnt plastic.",
        "Sparks came out of the socket when I plugged in the adapter you sent and the "
        "cable is blackened.",
        "The laptop battery is puffed up so much that the keyboard is lifting off and it "
        "makes a hissing noise.",
        "There is smoke coming out of the back of the router and it smells like something "
        "is melting.",
        "Das Netzteil ist so heiß geworden, dass das Gehäuse geschmolzen ist, und es riecht "
        "verbrannt.",
        "La batterie de ma trottinette a gonflé et dégage une odeur de brûlé.",
        "El cargador soltó chispas y ahora el enchufe está quemado.",
        "Il caricabatterie ha fatto fumo e la presa è annerita.",
        "The washing machine started to smell of burning during the spin cycle and the cable near "
        "the plug is brown and soft.",
        "I noticed flames behind the television for a second and the power strip is now charred.",
        "Mi batería externa se hinchó mientras cargaba y ahora está caliente y huele raro.",
    ),
    "injury": (
        "The blade guard came off while I was using your trimmer and I needed stitches in my leg.",
        "My daughter swallowed a small part that came loose from the toy and we had to go "
        "to hospital.",
        "The chair collapsed under me and I hurt my back badly, I've been to the doctor twice.",
        "Hot water sprayed out of the kettle lid and scalded my arm.",
        "Beim Aufbau ist das Regal umgekippt und hat meinen Sohn am Kopf verletzt.",
        "L'écran s'est brisé dans ma main et je me suis coupé profondément au doigt.",
        "La escalera se rompió y me caí, tengo el tobillo fracturado.",
        "Il mio bambino si è ustionato con la piastra, la superficie diventa rovente.",
        "The handle snapped off the pan while I was carrying it and boiling water went over my "
        "feet, I have blisters.",
        "My toddler trapped his fingers in the folding mechanism of the pram and one is broken.",
        "Se rompió el cristal de la mesa y mi hija se hizo un corte profundo en la mano.",
    ),
    "emergency_call_failed": (
        "Last night my mother had a fall and when I tried to dial for an ambulance the "
        "phone just showed no service.",
        "During the storm I needed the fire brigade but every call to the emergency line "
        "dropped after one ring.",
        "My watch is supposed to call for help when I fall, but when I fell yesterday it "
        "did not alert anyone.",
        "Als mein Vater zusammenbrach, konnte ich mit Ihrem Telefon den Rettungsdienst "
        "nicht anrufen.",
        "Quand j'ai voulu appeler le 112 après l'accident, l'appel ne passait pas.",
        "Intenté llamar al 112 durante un incendio y la llamada no se conectaba.",
        "Our neighbour collapsed and my landline could not reach the emergency services, it just "
        "gave a busy tone.",
        "The alarm system was meant to contact the emergency centre when the smoke detector went "
        "off, but nobody was called.",
    ),
}
# Long questions a help center answers that read like the rules above.
LONG_ORDINARY = (
    "I'd like to add a second user to our team account, which plan do I need for that?",
    "Can someone from your team install the appliance for me, and how much does it cost?",
    "What personal information do you collect when I sign up, and how long do you keep it?",
    "Where can I download my invoices for the last year? I need them for my tax return.",
    "How do I export my order history to a spreadsheet?",
    "I'd like to cancel one order from last week but keep my account, how do I do that?",
    "How do I remove an old device from my account so it stops syncing?",
    "My phone gets quite warm while charging overnight, is that normal for this model?",
    "Is the kettle safe to use around young children, and does the lid lock?",
    "What happens to my subscription if I move to another country?",
    "Can I transfer my account to my partner's name when we move house together?",
    "I forgot my password and the reset email hasn't arrived, where else can I look?",
    "How do I turn on login alerts so I know when someone signs in to my account?",
    "What is your complaints procedure and how long does a complaint usually take?",
    "Can I change the payment card on my subscription before the next billing date?",
    "The delivery was a day late but everything arrived fine, thanks. Can I leave a review?",
    "Does the warranty cover a battery that no longer holds its charge after two years?",
    "How do I set up emergency SOS on the watch so it calls my daughter?",
    "How do I pause my membership for a couple of months while I am travelling?",
    "Can I get a refund for the unused part of my annual plan if I downgrade?",
    "Wie kann ich meine Rechnungen der letzten Monate herunterladen?",
    "Comment ajouter un deuxième utilisateur à mon compte ?",
    "¿Qué datos personales guardan cuando creo una cuenta?",
    "Posso cambiare il metodo di pagamento prima del prossimo addebito?",
    "Hoe kan ik mijn bestelgeschiedenis bekijken?",
    "Como altero a morada de entrega de uma encomenda?",
    "I was charged twice for the same order, how do I get the extra payment refunded?",
    "I dropped my phone and the screen cracked, does my insurance cover a repair?",
    "Are you a real person or an automated assistant? Just curious.",
    "Our office moved to a new address, how do I update it on all our invoices?",
    "I'm not happy with the colour of the sofa, can I exchange it for another one?",
    "How do I delete my old posts and photos without closing my account?",
    "My package says delivered but I can't find it anywhere, what should I do?",
    "The app keeps logging me out after every update, how do I fix that?",
    "Can I give my son access to my account while I'm in hospital next week?",
    "How do I cancel my order before it ships? I ordered the wrong size.",
    "The battery drains quickly since the last update, is there a setting to save power?",
    "Do you have a safety data sheet for the cleaning product? I want to store it correctly.",
    "Ich wurde für eine Bestellung doppelt belastet, wie bekomme ich das Geld zurück?",
    "Kann ich meinen Tarif wechseln, ohne den Vertrag zu kündigen?",
    "Wo finde ich die Bedienungsanleitung für mein Gerät?",
    "Comment changer le mode de paiement de mon abonnement ?",
    "Mon colis est marqué livré mais je ne le trouve pas, que faire ?",
    "Puis-je modifier mon adresse de livraison ?",
    "¿Cómo cambio la contraseña de mi cuenta?",
    "¿Puedo cambiar el producto por otra talla?",
    "Me cobraron dos veces el mismo pedido, ¿cómo lo soluciono?",
    "Como posso alterar o meu plano sem cancelar a conta?",
    "Quanto custa o envio para Espanha?",
    "Come posso scaricare le mie fatture?",
    "Quanto costa la spedizione in Svizzera?",
    "Hoe wijzig ik mijn wachtwoord?",
    "Kan ik mijn abonnement pauzeren tijdens de vakantie?",
)


def intent_classified(*, vectors: np.ndarray, intents: list[Intent]) -> tuple[Intent, float] | None:
    """The built-in rule among `intents` (those the policy keeps) a piece of the message
    (`vectors`, normalised embeddings) belongs to, and the probability that the piece is
    one of them: the most probable piece's most probable rule, when it reaches THRESHOLD."""
    if not intents or not len(vectors):
        return None
    classifier = _classifier()
    columns = [list(classifier.classes_).index(intent.key) for intent in intents]
    probabilities = classifier.predict_proba(vectors)[:, columns]
    piece = int(probabilities.sum(axis=1).argmax())
    score = float(probabilities[piece].sum())
    if score < THRESHOLD:
        return None
    return intents[int(probabilities[piece].argmax())], score


@cache
def _classifier() -> LogisticRegression:
    texts, labels = [], []
    for intent in INTENTS:
        examples = [*intent.rule.examples, *LONG_EXAMPLES[intent.key]]
        texts += examples
        labels += [intent.key] * len(examples)
    ordinary = list(
        dict.fromkeys(
            [text for intent in INTENTS for text in intent.rule.counter_examples]
            + list(LONG_ORDINARY)
        )
    )
    texts += ordinary
    labels += [ORDINARY] * len(ordinary)
    return LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000).fit(
        texts_embed(texts=texts), labels
    )
