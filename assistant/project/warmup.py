"""What a server process loads before it takes its first customer.

Everything on the answer path loads on first use: the embedding model and its TorchScript
graph, the injection classifier (fitted on embedded examples), the escalation rules'
example vectors, Presidio's recognizers with tldextract's suffix list and phonenumbers'
metadata, pyap2's address patterns (0.9 s to compile), the language identifier; and for
the answer's pushes, the URLconf (with every view it imports) and the templates. Left to
the first question, they made its answer 2.6 s late on the 2-core VM; a process now
spends that time before it listens.
No database is touched: the checks run against a policy that is never saved.
"""

from django.conf import settings
from django.template.loader import get_template
from django.urls import reverse

from assistant.common.languages import customer_language
from assistant.models import PolicyVersion
from assistant.rails.contacts import contacts_find, secret_requested
from assistant.rails.input_rails import input_rails
from assistant.rails.output_rails import OutputRails

SAMPLE = (
    "Hi, where is my order? I would like to talk to a person: write to me at "
    "sam@example.com or call +1 415 555 0142, or send it to 12 Main Street, Springfield, IL "
    "62701."
)


def answer_path_warm() -> None:
    policy = PolicyVersion()
    input_rails(text=SAMPLE, policy=policy)
    OutputRails(policy=policy, sources=[], instructions="").violations(
        sentence=SAMPLE, generated=True
    )
    contacts_find(text=SAMPLE)  # the contacts rail's, which reads the database too
    secret_requested(sentence=SAMPLE)
    customer_language(questions=[SAMPLE])
    reverse("answer", args=["warm-up", 1])
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for template in folder.rglob("*.html"):
            get_template(str(template.relative_to(folder)))
