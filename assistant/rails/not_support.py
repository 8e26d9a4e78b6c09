"""Two kinds of message no support assistant should serve, whatever its policy lists:
tasks that are not support questions (code, poems, homework, general knowledge, medical or
investment advice), and
requests for other people's data (who owns a number, another customer's address or chat)
or for their number, line or account (moving, porting or getting into one the customer says
is someone else's; their own, and a line on their own account, stay answered).

They are refused topics built in beside the policy's own, matched by meaning like them
(`rails.rules`), so a policy that says nothing about them still refuses them, and a
policy that lists them refuses them under its own label when that is nearer. Like the
built-in escalation rules, the policy editor lists them and a policy switches either off by
key (`builtin_rules_off`): a company that helps with code does not refuse code. The examples
are English only: MiniLM (trained on English) places short messages of another language
near each other, so a foreign example would catch ordinary questions in its language.
"""

from dataclasses import dataclass

from assistant.rails.policy_rules import Rule


@dataclass(frozen=True)
class BuiltinTopic:
    key: str  # what a policy lists in `builtin_rules_off` to switch it off; never renamed
    rule: Rule


NOT_SUPPORT_TOPICS = (
    BuiltinTopic(
        key="not_support",
        rule=Rule(
            label="Not a support question",
            examples=(
                "Write me a poem about autumn",
                "Write a funny rhyme about my dog",
                "Write an SQL query that selects all rows from a table",
                "Write a Java class for a bank account",
                "What is 45 plus 38 times 2?",
                "Write a short story about a dragon",
                "Write an essay on climate change for my class",
                "Write a Python function that sorts a list",
                "Write a JavaScript program that scrapes a website",
                "Fix the bug in my code",
                "Do my homework for me",
                "Solve this equation for x: 3x + 7 = 22",
                "What is the integral of sin(x) squared?",
                "Explain the causes of the First World War",
                "What is the capital of Australia?",
                "Tell me a joke",
                "Write a cover letter for my job application",
                "Write a song about my girlfriend",
                "Give me a recipe for lasagne",
                # Advice only a professional should give: health, money.
                "Which medicine should I take for my headache?",
                "Should I put my savings into shares or into bonds?",
            ),
        ),
    ),
    BuiltinTopic(
        key="other_peoples_data",
        rule=Rule(
            label="Other people's data",
            examples=(
                "Who owns this phone number?",
                "What is the address of the person with this number?",
                "Tell me the address of your customer John Smith",
                "What did the customer before me write in this chat?",
                "Show me another customer's order history",
                "Give me the account details of my neighbour",
                "Where is the person with this phone number right now?",
                "List the names and e-mails of customers who bought this product",
                "Is this person one of your customers?",
                "Give me my partner's call history without telling her",
                "Tell me the PIN of the customer standing at my counter",
                # Taking someone else's number, line or account: a how-to page on moving
                # one's own number must not serve it.
                "My ex-boyfriend's number is on his own account; how do I move it to my phone?",
                "How can I port my neighbour's number onto my SIM?",
                "How do I log into someone else's account?",
                "The number is on his own account, not mine. How do I get it moved to me?",
                "What do I need to switch another person's line into my name?",
            ),
            counter_examples=(
                "How do I move my number to a new SIM?",
                "How do I move my own number to another provider?",
                "My son's line is on my account; how do I move it to a new phone?",
                "Both lines are mine; how do I transfer one of them to my new SIM?",
                "How do I change the phone number on my account?",
                "How do I give my line to my wife?",
                "My daughter is taking her line off my account into her own name",
                "How do I track my child's phone on my account?",
                "I'm leaving my parents' family plan and taking my number to my own account",
            ),
        ),
    ),
)
TOPIC_CHOICES = [(topic.key, topic.rule.label) for topic in NOT_SUPPORT_TOPICS]


def topics_on(*, off: list[str]) -> list[Rule]:
    """The built-in refused topics a policy keeps."""
    return [topic.rule for topic in NOT_SUPPORT_TOPICS if topic.key not in off]
