"""What is remembered: the SQLite history, the session's link to it, adaptation."""
