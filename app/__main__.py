"""The command line: `python -m app serve|migrate|seed|places|export|import|openapi|users|keys`.

Without DATABASE_URL every command starts the embedded PostgreSQL (data under DATA_DIR, default
.data/) for as long as it runs, and stops it on exit, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import logging.config
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode

from app.core.settings import Settings, get_settings

log = logging.getLogger("app")
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """DATABASE_URL when set; otherwise an embedded server for the duration of the block."""
    if settings.database_url:
        yield settings.database_url
        return
    from app.core.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(settings.data_dir)
    try:
        yield server.start()
    finally:
        # A server that was already running (say `make run`'s) was only attached to: it stays up.
        started = server.process is not None
        server.stop()
        if started:
            log.info("embedded PostgreSQL stopped")


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision)


def seed(url: str, *, only_if_empty: bool) -> None:
    from app.seed import load_sample_data

    report = asyncio.run(load_sample_data(url, only_if_empty=only_if_empty))
    for line in report.splitlines():
        log.info("%s", line)


def load_places(url: str) -> None:
    from app.admin_units.gazetteer import load_places as load

    log.info("%s", asyncio.run(load(url)))


def places(url: str, action: str, *, as_json: bool = False) -> None:
    """`places load`, or `places match|unplaced`, whose report goes to standard output."""
    if action == "load":
        load_places(url)
        return
    from app.admin_units.placing import run

    print(asyncio.run(run(url, action, as_json=as_json)))


def serve(settings: Settings, url: str) -> None:
    import uvicorn

    from app.core.observability import log_config

    # Worker processes read the URL from the environment, embedded server included.
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    metrics_dir = None
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics here; /metrics, answered by any of them, sums them all.
        metrics_dir = tempfile.mkdtemp(prefix="craftvillage-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    # uvicorn handles SIGTERM while it runs (a graceful shutdown), then raises it again for us.
    global _served  # noqa: PLW0603 - read by the signal handler
    _served = True
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            log_config=log_config(settings.log_level),
            access_log=False,  # the service writes its own, in JSON, with the request id
            # X-Forwarded-For is believed only from these proxies (FORWARDED_ALLOW_IPS): it
            # gives the client address that sign-in throttling counts and the audit records.
            # None by default: then the headers are ignored, whoever sends them.
            proxy_headers=bool(settings.forwarded_allow_ips.strip()),
            forwarded_allow_ips=settings.forwarded_allow_ips.strip() or None,
            # SIGTERM: stop accepting, let requests in flight finish (up to this long), then exit.
            timeout_graceful_shutdown=settings.shutdown_timeout_s,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def openapi_text() -> str:
    """The OpenAPI document as committed: indented, non-ASCII kept, one trailing newline."""
    import json

    from app.main import create_app

    document = create_app(Settings(database_url=None)).openapi()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_openapi(output: str) -> int:
    """Write the document to a file, or to standard output for `-`; needs no database."""
    text = openapi_text()
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
    return 0


_served = False  # set when uvicorn takes over SIGTERM


def _errors(error: ValueError) -> list[dict[str, Any]]:
    """The errors of a pydantic ValidationError (any other ValueError: itself, as one)."""
    listed = getattr(error, "errors", None)
    return list(listed()) if callable(listed) else [{"loc": ("settings",), "msg": str(error)}]


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Unwind through the `finally` blocks so that the embedded server is stopped cleanly.
    # uvicorn re-raises the SIGTERM it handled after its graceful shutdown: that is the normal
    # way to stop the service, a success (0). Elsewhere (a migration, say) it is an interruption.
    raise SystemExit(0 if _served else 128 + signum)


def _places_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    places_cmd = commands.add_parser("places", help="the national gazetteer of administrative units")
    places_sub = places_cmd.add_subparsers(dest="places_command", required=True, metavar="ACTION")
    places_sub.add_parser(
        "load", help="add or bring up to date every unit and succession (twice changes nothing)"
    )
    for action, text in (
        (
            "match",
            "place the villages and co-operatives without a commune in one, by name (twice changes nothing)",
        ),
        ("unplaced", "list the villages and co-operatives without a commune"),
    ):
        action_cmd = places_sub.add_parser(action, help=text)
        action_cmd.add_argument("--json", action="store_true", help="a JSON document instead of lines")


def _export_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser(
        "export",
        help="write a list (villages, ...) or a statistic (stats/villages) to a CSV, XLSX or GeoJSON file",
    )
    export.add_argument("resource", help="the list's path, e.g. villages, or stats/villages for a statistic")
    export.add_argument("--format", choices=["csv", "xlsx", "geojson"], default="csv")
    export.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a query parameter of the list, e.g. district=362 or sort=name (repeatable)",
    )
    export.add_argument("--lang", choices=["vi", "en"], help="labels for people instead of codes")
    export.add_argument("-o", "--output", required=True, help="the file to write (- for standard output)")


async def export_file(url: str, args: argparse.Namespace) -> int:
    """`export`: ask the app (in this process, through its own endpoint: the same filters, checks,
    columns and problems as over HTTP) for the file and write it; a refusal is printed as its
    problem's detail."""
    import httpx

    from app.core.settings import Settings
    from app.main import create_app

    pairs: list[tuple[str, str]] = []
    for item in args.filter:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --filter takes KEY=VALUE, not {item!r}", file=sys.stderr)
            return 2
        pairs.append((key, value))
    pairs.append(("format", args.format))
    if args.lang:
        pairs.append(("lang", args.lang))
    app = create_app(Settings(database_url=url))
    target = f"/api/v1/{args.resource.strip('/')}?{urlencode(pairs)}"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://cli", timeout=3600) as client,
            client.stream("GET", target) as answer,
        ):
            if answer.status_code != 200:
                body = await answer.aread()
                try:
                    problem = json.loads(body)
                    detail = problem.get("detail") or problem.get("title")
                    errors = "; ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors") or [])
                except (ValueError, AttributeError):
                    detail, errors = body.decode(errors="replace")[:500], ""
                print(
                    f"error: {answer.status_code} {detail}{' (' + errors + ')' if errors else ''}",
                    file=sys.stderr,
                )
                return 1
            written = 0
            output = sys.stdout.buffer if args.output == "-" else Path(args.output).open("wb")  # noqa: SIM115, ASYNC230
            try:
                async for chunk in answer.aiter_bytes():
                    output.write(chunk)
                    written += len(chunk)
            finally:
                if output is not sys.stdout.buffer:
                    output.close()
    if args.output != "-":
        print(f"wrote {written} bytes to {args.output}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0911, PLR0912, PLR0915 - one branch per command
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description=(
            "Craft-village data service. Database: DATABASE_URL, or an embedded PostgreSQL under DATA_DIR."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve_cmd = commands.add_parser(
        "serve", help="migrate, then serve the API on HOST:PORT (default 127.0.0.1:8000)"
    )
    serve_cmd.add_argument(
        "--seed-if-empty",
        action="store_true",
        help="load the gazetteer, and the sample data when the database has no villages",
    )
    serve_cmd.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    migrate_cmd = commands.add_parser("migrate", help="apply the Alembic migrations")
    migrate_cmd.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    commands.add_parser(
        "seed", help="load the gazetteer, then the illustrative Nam Định sample data (twice changes nothing)"
    )
    _places_commands(commands)
    openapi_cmd = commands.add_parser(
        "openapi", help="write the OpenAPI document (the committed snapshot is docs/openapi.json)"
    )
    openapi_cmd.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    from app.auth.cli import add_commands

    add_commands(commands)
    _export_command(commands)
    from app.imports.cli import add_command

    add_command(commands)
    args = parser.parse_args(argv)

    if args.command == "openapi":
        return write_openapi(args.output)
    try:
        settings = get_settings()
    except ValueError as error:  # pydantic's ValidationError: one line per setting refused
        lines = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in _errors(error))
        print(f"error: the configuration is refused: {lines}", file=sys.stderr)
        return 2
    from app.core.observability import log_config

    logging.config.dictConfig(log_config(settings.log_level))
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with database(settings) as url:
            if args.command == "migrate":
                migrate(url, args.revision)
            elif args.command == "seed":
                migrate(url)
                seed(url, only_if_empty=False)
            elif args.command == "places":
                migrate(url)
                places(url, args.places_command, as_json=getattr(args, "json", False))
            elif args.command == "export":
                logging.getLogger("alembic").setLevel(logging.WARNING)
                migrate(url)
                return asyncio.run(export_file(url, args))
            elif args.command == "import":
                from app.imports.cli import import_file
                from app.registry import IMPORTS, REGISTRY

                if args.resource not in IMPORTS:
                    print(f"error: --resource must be one of {', '.join(sorted(IMPORTS))}", file=sys.stderr)
                    return 2
                logging.getLogger("alembic").setLevel(logging.WARNING)
                migrate(url)
                spec = IMPORTS[args.resource]
                return asyncio.run(import_file(url, settings, spec, REGISTRY.constraint_messages, args))
            elif args.command in ("users", "keys"):
                from app.auth.cli import run

                # Keep the output to the command's own lines (scripts read the key from it).
                logging.getLogger("alembic").setLevel(logging.WARNING)
                try:
                    migrate(url)
                except Exception as error:  # one line, never a traceback
                    print(f"error: the database cannot be used ({type(error).__name__})", file=sys.stderr)
                    return 1
                return asyncio.run(run(url, args))
            else:
                if not args.no_migrate:
                    migrate(url)
                if args.seed_if_empty:
                    seed(url, only_if_empty=True)
                serve(settings, url)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
