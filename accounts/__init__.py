"""Accounts: who is calling and what they may be.

- :mod:`accounts.identity` — the caller (:class:`Identity`), roles and the agent IRI that every
  write in the graph is attributed to;
- :mod:`accounts.users` — the user table (SQLite under ``$GUJI_HOME``), passwords and API keys;
- :mod:`accounts.tokens` — the bearer tokens of ``POST /auth/token``;
- :mod:`accounts.service` — turning credentials into an identity, and a password into a token;
- :mod:`accounts.errors` — the package's typed errors.

Nothing here knows HTTP: ``api/`` maps the errors to status codes and reads the headers.
"""
