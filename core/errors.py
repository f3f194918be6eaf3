"""Errors that carry a message meant for the person who gave the input.

Core code raises `InputError`; the UI layer turns it into a `gr.Error`, so the message is
shown as-is and the app keeps serving.
"""


class InputError(ValueError):
    """The user's input cannot be used; the message says what to do instead."""
