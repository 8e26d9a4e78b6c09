"""E-mail tickets: with nobody online, a conversation goes on by e-mail (replies out by
SMTP from the worker, the customer's answers back in through an inbound webhook), and
agents' notifications of conversations left waiting."""
