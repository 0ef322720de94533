"""``guji users ...``: create users, set passwords and roles, issue API keys.

``register(app)`` adds the ``users`` command group to the ``guji`` Typer app. Users live in SQLite
under ``$GUJI_HOME`` (not in the RDF store), so these commands work beside a running server.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from api.settings import get_settings
from kg.errors import GujiError

users = typer.Typer(no_args_is_help=True, help="Users and their roles: annotator, reviewer, admin, submitter, acceptance (staff), coordinator (province)")
err = Console(stderr=True)

RoleOpt = Annotated[str, typer.Option("--role", help="annotator | reviewer | admin | submitter | acceptance | coordinator")]


def _store():
    from accounts.users import UserStore

    try:
        settings = get_settings()
    except ValueError as exc:
        err.print(f"[bold red]configuration error[/]: {exc}")
        raise typer.Exit(2) from None
    return UserStore(settings.users_path, fast_hashing=settings.environment == "test")


def _fail(exc: GujiError) -> None:
    err.print(f"[bold red]error[/]: {exc}")
    raise typer.Exit(1)


def _read_password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if confirm and getpass.getpass("again: ") != first:
        err.print("[bold red]error[/]: the passwords differ")
        raise typer.Exit(1)
    return first


@users.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, _ . -)")],
    role: RoleOpt = "annotator",
    as_json: Annotated[bool, typer.Option("--json", help='Print {"name", "role", "api_key"} as JSON')] = False,
    password: Annotated[bool, typer.Option("--password", help="Also set a password (prompted) for POST /auth/token")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input")] = False,
) -> None:
    """Create a user and print an API key (shown once; keep it: only its hash is stored)."""
    secret = _read_password(password_stdin) if (password or password_stdin) else None
    try:
        user, key = _store().add(name, role, password=secret)
    except GujiError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps({"name": user.name, "role": user.role.value, "api_key": key}))
    else:
        print(key)
        err.print(f"user {user.name} ({user.role.value}) created; the line above is their API key: "
                  "send it as Authorization: Bearer <key>")


@users.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users and their roles."""
    rows = [{"name": u.name, "role": u.role.value, "created": u.created, "password": u.has_password} for u in _store().list()]
    if as_json:
        print(json.dumps(rows))
        return
    for r in rows:
        print(f"{r['name']}\t{r['role']}\t{r['created']}\t{'password' if r['password'] else 'api key only'}")


@users.command("passwd")
def passwd(
    name: Annotated[str, typer.Argument()],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input")] = False,
) -> None:
    """Set a user's password (for the OAuth2 password flow, POST /auth/token)."""
    try:
        _store().set_password(name, _read_password(password_stdin))
    except GujiError as exc:
        _fail(exc)
    err.print(f"password of {name} set")


@users.command("role")
def set_role(name: Annotated[str, typer.Argument()], role: Annotated[str, typer.Argument(help="annotator | reviewer | admin | submitter")]) -> None:
    """Change a user's role (takes effect on their next request)."""
    try:
        user = _store().set_role(name, role)
    except (GujiError, ValueError) as exc:
        err.print(f"[bold red]error[/]: {exc}")
        raise typer.Exit(1) from None
    err.print(f"{user.name} is now {user.role.value}")


@users.command("key")
def key(
    name: Annotated[str, typer.Argument()],
    label: Annotated[Optional[str], typer.Option(help="What the key is for (a script's name)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue another API key for a user."""
    try:
        value = _store().new_api_key(name, label)
    except GujiError as exc:
        _fail(exc)
    print(json.dumps({"name": name, "api_key": value}) if as_json else value)


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
