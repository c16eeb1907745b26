"""``vocmine keys`` (API keys) and ``vocmine serve`` (the HTTP API)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vocmine.cli.common import CommandGroup, StoreOption, _settings, console, err, opened
from vocmine.services.keys import SCOPES, create_key

keys_app = CommandGroup(no_args_is_help=True, help="Create, list and revoke API keys.")


@keys_app.command("create")
def create(
    scope: Annotated[list[str], typer.Option("--scope", help=f"one of {', '.join(SCOPES)}; repeat for more")],
    name: Annotated[str, typer.Option(help="who or what uses the key")] = "api key",
    store: StoreOption = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a key; its token is printed once and cannot be shown again."""
    with opened(_settings(store=store)) as target:
        key, token = create_key(target, name, scope)
    if json_output:
        console.print_json(json.dumps({"key": key.model_dump(mode="json"), "token": token}))
        return
    console.print(f"key {key.id} ({escape(key.name)}), scopes {', '.join(key.scopes)}")
    console.print(token, markup=False, highlight=False, soft_wrap=True)
    err.print("store the token now: only its hash is kept")


@keys_app.command("list")
def list_keys(store: StoreOption = None) -> None:
    """Keys with their scopes and state (never their tokens)."""
    with opened(_settings(store=store)) as target:
        keys = target.list_api_keys()
    table = Table()
    for column in ("id", "name", "scopes", "created", "revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.id, escape(key.name), ", ".join(key.scopes), f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (see `vocmine keys list`)")], store: StoreOption = None
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    with opened(_settings(store=store)) as target:
        key = target.revoke_api_key(key_id)
    console.print(f"revoked {key.id} ({escape(key.name)})")


def serve(
    store: StoreOption = None,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the HTTP API (see the README's API section)."""
    import os

    import uvicorn

    if store:
        os.environ["VOCMINE_STORE"] = store  # the workers build their settings from the environment
    _settings()
    uvicorn.run("vocmine_api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")
