"""Typed errors of the accounts package. ``api/errors.py`` maps them to HTTP statuses."""

from __future__ import annotations

from kg.errors import GujiError


class AuthenticationRequiredError(GujiError):
    """No (valid) credentials for an operation that needs them (HTTP 401)."""

    code = "unauthorized"


class PermissionDeniedError(GujiError):
    """Authenticated, but the role or ownership does not allow the operation (HTTP 403)."""

    code = "forbidden"


class InvalidCredentialsError(AuthenticationRequiredError):
    """A wrong password, an unknown API key, a token that is forged, expired or malformed."""

    code = "invalid_credentials"


class SecretKeyError(GujiError):
    """No usable key to sign tokens with: missing in production, a published placeholder, too short."""

    code = "secret_key_refused"


class TooManyAttemptsError(GujiError):
    """Over a rate limit (HTTP 429); ``details["retry_after"]`` says in how many seconds to try again."""

    code = "too_many_requests"


class LoginLockedError(TooManyAttemptsError):
    """Too many wrong passwords in a row for one user name: it is locked for a while (HTTP 429)."""

    code = "login_locked"


class PasswordHashingBusyError(GujiError):
    """Every password-hashing slot stayed busy for the whole wait (HTTP 503, with retry_after)."""

    code = "busy"
