"""`python -m app import FILE --resource PATH [--mode upsert] [--dry-run] [--as-of DAY]`: the
importer of POST /api/v1/imports at the command line, in one transaction, as the command line
(the batch and its audit events name the system user, actor id 0)."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from datetime import date
from pathlib import Path

from app.core.db import make_engine, make_sessionmaker
from app.core.errors import AppError
from app.core.i18n import say
from app.core.settings import Settings
from app.kit.import_writer import Who, file_facts, run_import
from app.kit.importing import ImportSpec
from app.spreadsheets.reading import XLSX_TYPE, Limits, SpreadsheetError, read_table


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "import", help="import a CSV or XLSX file into a resource, checked whole, all or nothing"
    )
    command.add_argument("file", help="the CSV or XLSX file")
    command.add_argument(
        "--resource", required=True, help="the resource's API path: villages, village-figures or cooperatives"
    )
    command.add_argument("--mode", choices=["create", "upsert"], default="create")
    command.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    command.add_argument(
        "--as-of", type=date.fromisoformat, help="the day whose units a reused code names (default today)"
    )


async def import_file(
    url: str, settings: Settings, spec: ImportSpec, messages: dict[str, str], args: argparse.Namespace
) -> int:
    """Import the file; print the counts, or every problem (a line each) and exit 1."""
    path = Path(args.file)
    size = (await asyncio.to_thread(path.stat)).st_size
    if size > settings.import_max_bytes:
        print(f"error: {path} is over IMPORT_MAX_BYTES ({settings.import_max_bytes} bytes)", file=sys.stderr)
        return 1
    data = await asyncio.to_thread(path.read_bytes)
    engine = make_engine(url, settings)
    try:
        async with make_sessionmaker(engine)() as session:
            try:
                content_type = XLSX_TYPE if path.suffix.lower() == ".xlsx" else "text/csv"
                limits = Limits(max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows)
                table = read_table(
                    io.BytesIO(data), filename=path.name, content_type=content_type, limits=limits
                )
                batch = await run_import(
                    session,
                    spec,
                    table,
                    mode=args.mode,
                    dry_run=args.dry_run,
                    as_of=args.as_of or date.today(),
                    actor=Who.command_line(),
                    facts=file_facts(path.name, data),
                    messages=messages,
                    statement_timeout_ms=settings.import_statement_timeout_ms,
                )
                await session.commit()
            except SpreadsheetError as error:
                print(f"error: {say(error.message, 'en')}", file=sys.stderr)
                return 1
            except AppError as error:
                print(f"error: {say(error.detail, 'en')}", file=sys.stderr)
                for item in error.extra.get("errors", []):
                    print(
                        f"  row {item['row']}, column {item['column']}, value {item['value']!r}: "
                        f"{say(item['message'], 'en')}",
                        file=sys.stderr,
                    )
                for field_error in error.errors or []:
                    print(f"  {field_error.field}: {say(field_error.message, 'en')}", file=sys.stderr)
                return 1
    finally:
        await engine.dispose()
    counts = batch.counts
    done = "would be (dry run)" if batch.id is None else f"batch {batch.id}:"
    print(
        f"{spec.path} {done} created {counts.created}, updated {counts.updated}, unchanged {counts.unchanged}"
    )
    return 0
