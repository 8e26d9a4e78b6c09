"""Output rail: answers never send customers elsewhere, nor ask them for a secret.

An answer may only give e-mail addresses, phone numbers and web addresses that belong to
the workspace: its domains (and their subdomains), its contact details, the sites that
embed its chat, the addresses of the documents it cites, and what its searchable
knowledge base gives (`knowledge.selectors.documents_giving`). The knowledge base counts
with care, because a planted passage is in it too: an e-mail or web address outside the
workspace's domains must be given by two searchable documents (a company's addresses recur
across its articles; a planted one is in the page it was planted in), a phone number by
one (a company lists a number per store or department, often once; a phone number names
no domain to tell the company's from another's).

A sentence asking the customer to give, send, tell or enter their card number, security
code, PIN, password or one-time code is scored by meaning, like injections: a logistic
regression over the sentence embeddings, fitted at start on written examples in several
languages (`SECRET_REQUESTS`) against sentences that name a secret without asking for it
(`SECRET_MENTIONS`: "never share your password", "pay in the app's Payment page").

Both run on every sentence, quoted or generated: a planted passage quoted word for word
sends customers as far as a model's invention does.
"""

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import numpy as np
import tldextract
from sklearn.linear_model import LogisticRegression

from assistant.models import Workspace
from assistant.rails.personal_data import personal_data_find
from knowledge.embeddings import texts_embed, texts_embed_cached
from knowledge.selectors import documents_giving

EMAIL, PHONE, WEB = "e-mail address", "phone number", "web address"
# Names set aside for documentation and tests (RFC 2606): as outside as any other domain.
RESERVED_SUFFIXES = ("example", "test", "invalid", "localhost")
# Two spellings of one number share their last digits: "+1 (503) 555-0142" and
# "503 555 0142"; nine leaves out a country code and a trunk prefix in most plans.
PHONE_DIGITS_COMPARED = 9
KNOWLEDGE_BASE_DOCUMENTS = {EMAIL: 2, WEB: 2, PHONE: 1}
# A request for a secret is close to one of the written requests (what it is about) and
# on the requests' side of the line the classifier draws against the mentions (how it
# says it: "never share your code" 0.21, "reply with the code we texted you" 0.64). The
# classifier alone scored out-of-place text (table rows) up to 0.68; with both, no
# sentence of the demo help center is taken for a request (the nearest, "We may ask you
# to verify your identity", 0.77 close and 0.54 on the request side).
SECRET_SIMILARITY = 0.55
SECRET_PROBABILITY = 0.55
REGULARISATION = 10.0  # LogisticRegression's C: sharper than 3, which left requests at 0.6

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)+[a-z]{{2,63}}"
_HOST_ONLY = re.compile(_HOST, re.IGNORECASE)
_EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]+@({_HOST})(?![\w-])", re.IGNORECASE)
_URL = re.compile(
    rf"\b(?:https?|ftp)://(?:[^\s/@]+@)?(\[[0-9a-f:]+\]|{_HOST}|[\d.]+)|(?<![\w.@/-])({_HOST})(?![\w@-])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Contact:
    kind: str  # EMAIL, PHONE or WEB
    key: str  # compared: an address or host casefolded, a phone number's last digits

    @property
    def described(self) -> str:
        """For the audit: the domain, never a mailbox or a number (personal data at rest)."""
        if self.kind == PHONE:
            return f"a {PHONE} not the company's"
        article = "an" if self.kind == EMAIL else "a"
        return f"{article} {self.kind} at {self.key.split('@')[-1]}, not the company's"


@dataclass(frozen=True)
class WorkspaceContacts:
    """What a workspace says is its own, and what its knowledge base was found to give."""

    workspace_id: int
    domains: frozenset[str]  # their subdomains too
    addresses: frozenset[str]
    phones: frozenset[str]
    documents_giving: dict[str, int] = field(default_factory=dict, compare=False)  # read so far


def workspace_contacts(*, workspace_id: int, sites: Iterable[str] = ()) -> WorkspaceContacts:
    """The workspace's domains and contact details, with the sites that embed its chat and
    `sites` (the documents an answer cites): "www." left off, as it names the site, not
    a subdomain. One query; the knowledge base is read later, and only if needed."""
    domains, details, origins = Workspace.objects.values_list(
        "domains", "contact_details", "allowed_origins"
    ).get(pk=workspace_id)
    hosts = [domain_read(text=site) for site in [*origins, *sites]]
    contacts = [contact_detail_read(text=detail) for detail in details]
    return WorkspaceContacts(
        workspace_id=workspace_id,
        domains=frozenset(
            host.casefold().removeprefix("www.") for host in [*domains, *hosts] if host
        ),
        addresses=frozenset(c.key for c in contacts if c and c.kind == EMAIL),
        phones=frozenset(c.key for c in contacts if c and c.kind == PHONE),
    )


def domain_read(*, text: str) -> str | None:
    """The host of a domain or web address ("help.example.com", "https://example.com/x"),
    lower case; None when it is neither."""
    try:
        host = urlsplit(text.strip() if "//" in text else f"//{text.strip()}").hostname
    except ValueError:  # an unclosed "[" of an IPv6 address
        return None
    return host if host and _HOST_ONLY.fullmatch(host) else None


def contact_detail_read(*, text: str) -> Contact | None:
    """The e-mail address or phone number a line of the settings gives, if it is one."""
    found = contacts_find(text=text)
    return found[0] if len(found) == 1 and found[0].kind in (EMAIL, PHONE) else None


def contacts_find(*, text: str) -> list[Contact]:
    """The e-mail addresses, phone numbers and web addresses `text` gives."""
    found, taken = [], []  # taken: the spans of addresses, whose digits are no phone
    for email in _EMAIL.finditer(text):
        found.append(Contact(EMAIL, email[0].casefold()))
        taken.append(email.span())
    for url in _URL.finditer(text):
        host = (url[1] or url[2]).casefold().strip("[]")
        if not _inside(url.start(), taken) and (url[1] or _known_suffix(host)):
            found.append(Contact(WEB, host))
            taken.append(url.span())
    for phone in personal_data_find(text=text, kinds=frozenset({"PHONE"})):
        if not _inside(phone.start, taken):
            digits = re.sub(r"\D", "", text[phone.start : phone.end])
            found.append(Contact(PHONE, digits[-PHONE_DIGITS_COMPARED:]))
    return found


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def contacts_foreign(*, contacts: Sequence[Contact], own: WorkspaceContacts) -> list[Contact]:
    """Those of `contacts` that are not the workspace's: neither in its settings nor given
    by enough of its searchable documents (read only when the settings do not decide)."""
    unknown = [contact for contact in contacts if not _owned(contact, own)]
    unread = {c.key: _pattern(c) for c in unknown if c.key not in own.documents_giving}
    if unread:
        counted = documents_giving(workspace_id=own.workspace_id, patterns=unread)
        own.documents_giving.update({key: counted.get(key, 0) for key in unread})
    return [
        contact
        for contact in unknown
        if own.documents_giving[contact.key] < KNOWLEDGE_BASE_DOCUMENTS[contact.kind]
    ]


def secret_requested(*, sentence: str) -> bool:
    """Does the sentence ask the customer for a card number, security code, PIN, password
    or one-time code?"""
    vector = texts_embed_cached([sentence])
    classifier, requests = _secret_classifier()
    return bool(
        float((requests @ vector[0]).max()) >= SECRET_SIMILARITY
        and classifier.predict_proba(vector)[0, 1] >= SECRET_PROBABILITY
    )


def _owned(contact: Contact, own: WorkspaceContacts) -> bool:
    if contact.kind == PHONE:
        return any(_same_phone(contact.key, phone) for phone in own.phones)
    if contact.kind == EMAIL:
        return contact.key in own.addresses or _within(contact.key.split("@")[1], own.domains)
    return _within(contact.key, own.domains) or _private_address(contact.key)


def _within(host: str, domains: frozenset[str]) -> bool:
    """The host is one of the domains or a subdomain of one."""
    return any(host == domain or host.endswith(f".{domain}") for domain in domains)


def _same_phone(one: str, other: str) -> bool:
    shorter, longer = sorted([one, other], key=len)
    return longer.endswith(shorter)


def _private_address(host: str) -> bool:
    """A router's or the customer's own machine ("open http://192.168.0.1"), not a site."""
    try:
        return ipaddress.ip_address(host).is_private
    except ValueError:
        return False


def _known_suffix(host: str) -> bool:
    """A name without a scheme is a web address when it ends in a real top-level domain:
    "shop.com", not "e.g" or "v1.2"."""
    return bool(_suffixes()(host).suffix) or host.rsplit(".", 1)[-1] in RESERVED_SUFFIXES


@cache
def _suffixes() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(suffix_list_urls=())  # the bundled list: never fetched


def _pattern(contact: Contact) -> str:
    """A PostgreSQL regular expression for the contact as a passage may write it."""
    if contact.kind == PHONE:
        return "[^0-9]{0,3}".join(contact.key) + "(?![0-9])"
    return rf"(?<![a-z0-9.@-]){re.escape(contact.key)}(?![a-z0-9-]|\.[a-z0-9])"


@cache
def _secret_classifier() -> tuple[LogisticRegression, np.ndarray]:
    """The classifier, and the requests' vectors."""
    vectors = texts_embed(texts=[*SECRET_REQUESTS, *SECRET_MENTIONS])
    labels = [1] * len(SECRET_REQUESTS) + [0] * len(SECRET_MENTIONS)
    classifier = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000)
    return classifier.fit(vectors, labels), vectors[: len(SECRET_REQUESTS)]


SECRET_REQUESTS = [
    "Please send us your full card number and the expiry date.",
    "Reply with the 16-digit number on the front of your card.",
    "Tell me the three-digit security code on the back of your card.",
    "Type your CVV here so we can confirm the payment.",
    "What is your card's CVC?",
    "To verify your identity, please give us your account password.",
    "Share your login password in this chat and we'll fix it.",
    "Send the one-time code we just texted you.",
    "Reply with the six-digit verification code from the SMS.",
    "Please tell us the PIN for your account.",
    "Enter your bank card number and PIN in the reply.",
    "E-mail your card details, including the security code, to our billing team.",
    "Could you provide your password so I can log in for you?",
    "Read me the code from the text message you received.",
    "Post your card number below and we will process the refund.",
    "Write your online banking password and the OTP here.",
    "Forward us the two-factor authentication code.",
    "Send a photo of both sides of your credit card.",
    "Please confirm your card number, expiry and CVV by e-mail.",
    "Give the agent your PIN when they call you.",
    "Envíanos el número de tu tarjeta y el código de seguridad.",
    "Por favor, dinos tu contraseña para verificar la cuenta.",
    "Responde con el código que te enviamos por SMS.",
    "Bitte senden Sie uns Ihre Kartennummer und die Prüfnummer.",
    "Teilen Sie uns Ihr Passwort mit, damit wir das Konto prüfen können.",
    "Bitte nennen Sie uns den Bestätigungscode aus der SMS.",
    "Envoyez-nous votre numéro de carte et le cryptogramme.",
    "Indiquez-nous votre mot de passe pour vérifier votre compte.",
    "Communiquez-nous le code reçu par SMS.",
    "Inviaci il numero della carta e il codice di sicurezza.",
    "Stuur ons je pincode en je wachtwoord.",
    "Envie o número do cartão e o código de segurança para nós.",
    "What is your PIN?",
    "Can you tell me your password?",
    "Provide the card's expiry date and CVC.",
    "Send your card details to our billing address.",
    "Give us the last four digits of your card and its security code.",
    "Let me have the code from the authenticator app.",
    "Kindly share your debit card number with the agent.",
    "Message us the passcode you received.",
    "Include your password in the e-mail so we can reset the account.",
    "Call us and read out your card number and CVV.",
    "Which password do you use for your account?",
    "What's the code in the text we sent you?",
    "Reply to this message with your verification code.",
    "Paste the security code from the e-mail here.",
    "Please type your account password below.",
    "Let us know your card's expiry date and CVV.",
    "We need your PIN to continue, please send it.",
    "Answer with the code from the app to confirm.",
    "Please write your card details here to complete the order.",
    "Dinos el PIN de tu tarjeta.",
    "Escríbenos aquí el código de verificación que te llegó.",
    "Pásanos la contraseña de tu cuenta para revisarla.",
    "Responda com o código que enviamos por mensagem.",
    "Gib uns deine Kartennummer und den Sicherheitscode.",
    "Quel est votre code PIN ?",
    "Qual è la tua password?",
]
SECRET_MENTIONS = [
    "Never share your password with anyone, not even with us.",
    "We will never ask for your PIN, password or card number.",
    "Our staff will never ask you for the code we text you.",
    "Enter your card details in the app's Payment page.",
    "You can update your card in My Account > Payment methods.",
    "Enter the six-digit code we text you on the sign-in page to finish logging in.",
    "Reset your password from the sign-in page with Forgot password.",
    "Your PIN is the four digits you chose when you opened the account.",
    "We accept Visa, Mastercard and American Express cards.",
    "The security code is the three digits on the back of your card.",
    "If someone asks for your one-time code, it is a scam: hang up.",
    "Choose a password of at least 12 characters.",
    "Card payments are processed securely by our payment provider.",
    "You will receive a one-time code by text message when you log in.",
    "Pay at checkout with a card or PayPal.",
    "Send us your order number and a photo of the damage.",
    "Reply with your order number and we'll look it up.",
    "Tell us your height and inseam and we'll suggest a frame size.",
    "Email support with your name and the serial number of the bike.",
    "Please give us your delivery address and a phone number for the courier.",
    "Enter the gift card code at checkout to apply the balance.",
    "Enter the promo code in the basket before paying.",
    "Type your postcode to find the nearest store.",
    "Change your password every few months.",
    "Nunca compartas tu contraseña con nadie.",
    "Wir fragen niemals nach Ihrer PIN oder Ihrem Passwort.",
    "Ne communiquez jamais votre mot de passe.",
    "Tu tarjeta se cobra cuando enviamos el pedido.",
    # Ordinary help text, which names no secret at all.
    "How to claim:",
    "Orders ship within two business days.",
    "Please don't return anything without a return number.",
    "Keep your receipt: you will need it for a warranty claim.",
    "Contact us with your order number and photos of the damage.",
    "Opening hours: Monday to Friday, 9:00 to 17:00.",
    "Refunds go back to the card you paid with within 10 days.",
    "Have your order number ready when you call.",
    "Tap Forgot password and follow the link we e-mail you.",
    "Turn on two-step verification in Settings > Security.",
    "Fill in the return form and print the label.",
    "Send us the serial number printed under the frame.",
    "Include your name and address in the parcel.",
    "You can request a copy of your data from Settings > Privacy.",
    "Step 3: confirm the payment in your bank's app.",
    "What you need: your order number and the product's model.",
    "Questions? Write to our support team.",
    "We may ask a few questions to make sure it's you.",
    "Show the confirmation e-mail on your phone in store.",
    "Enter your password to confirm the change.",
    "Enter the card number and PIN printed on the gift card to check its balance.",
    "Send the item back within 30 days for a refund.",
    "Leave it blank to send it immediately.",
    "We refund the original payment method once the return is approved.",
    "Want text updates? Add your mobile number at checkout.",
    "Tell us what went wrong and we'll put it right.",
    "Give your old bike a second life with our trade-in programme.",
    "Never share the code we send you with anyone who calls.",
    "We'll text you a code to confirm it's you; type it in the app.",
    "Staff will never ask for your password by phone or e-mail.",
    "Keep your PIN secret and cover the keypad.",
    "Update your payment card in the app under Wallet.",
    "Your password must have at least one number.",
    "Tell us your preferred pickup date.",
    "Let us know your order number and the item you want to return.",
    "Reply STOP to stop text messages.",
    "Type your e-mail address to get a reset link.",
    # Ordinary help text in other languages: the model knows English best, and without
    # these a Spanish sentence leaned to the requests for being Spanish.
    "Nuestro equipo nunca te pedirá el PIN ni la contraseña por teléfono.",
    "Los pedidos se envían en un plazo de 2 a 3 días laborables.",
    "Puedes devolver la bicicleta en cualquier tienda durante 30 días.",
    "La reparación básica cuesta 60 € y tarda unas dos horas.",
    "Paga con tarjeta en la web o en cualquiera de nuestras tiendas.",
    "Wir versenden Bestellungen innerhalb von zwei Werktagen.",
    "Unsere Mitarbeiter fragen nie nach Ihren Kartendaten.",
    "Die Rückgabe ist 30 Tage lang kostenlos.",
    "Les commandes sont expédiées sous deux jours ouvrés.",
    "Nous ne vous demanderons jamais votre code par SMS.",
    "Le retour est gratuit pendant 30 jours en magasin.",
    "Gli ordini vengono spediti entro due giorni lavorativi.",
    "Non ti chiederemo mai la password via e-mail.",
    "Os pedidos são enviados em até dois dias úteis.",
    "Nunca pediremos o código de segurança do seu cartão.",
    "Bestellingen worden binnen twee werkdagen verzonden.",
]
