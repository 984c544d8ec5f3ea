"""`appctl doctor`: checks of an app against what it runs on (base URL, credentials,
database objects and privileges, the history), outside the call path."""
