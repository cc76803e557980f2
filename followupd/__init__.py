"""followupd: turns the interviews in your calendar into reminders and follow-up drafts."""

__version__ = "0.1.0"
