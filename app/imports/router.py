"""Imports of spreadsheets: POST a CSV or XLSX file for one resource, read the batch back.

The file is the multipart field `file`, or the whole body with its own Content-Type (text/csv,
the XLSX type). What the file is comes from its bytes (app.spreadsheets.reading); the checks and
the writing are app.kit.importing and app.kit.import_writer.
"""

import io
import json
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.datastructures import UploadFile

from app.core.errors import AppError, FieldError, InvalidInput, NotFound
from app.core.i18n import Text, tr
from app.core.openapi import header
from app.core.problems import error_responses
from app.core.settings import Settings
from app.kit import idempotency
from app.kit.deps import Editor, IdempotencyKey, Session
from app.kit.import_writer import Batch, FileFacts, Who, file_facts, run_import
from app.kit.importing import ImportSpec
from app.kit.pagination import public_link
from app.kit.registry import Registry
from app.kit.router import actor_of
from app.kit.types import Int32, Int64
from app.models import ImportBatch
from app.spreadsheets.reading import XLSX_TYPE, Limits, SpreadsheetError, read_table

JSON = "application/json"
MULTIPART = "multipart/form-data"


class FileRejected(AppError):
    """A file that cannot be read as a whole (too large, not a spreadsheet, malformed)."""

    def __init__(self, error: SpreadsheetError) -> None:
        where = {k: v for k, v in (("row", error.row), ("column", error.column)) if v is not None}
        super().__init__(error.message, extra={"code": error.code, **where})
        self.status = error.status
        self.slug = {413: "too-large", 415: "unsupported-media-type"}.get(error.status, "file-rejected")


class ImportMode(StrEnum):
    create = "create"
    upsert = "upsert"


class ImportBatchRead(BaseModel):
    """An import: what was imported, by whom, when, and what it did."""

    model_config = ConfigDict(from_attributes=True)

    id: Int64 | None = Field(description="The batch's id; null for a dry run, which keeps no batch.")
    status: Literal["completed", "dry_run"] = Field(
        description="completed: written (all rows, in one transaction); dry_run: checked, nothing written."
    )
    resource: str
    mode: ImportMode
    created: Int32 = Field(description="Records created.")
    updated: Int32 = Field(description="Records whose fields the file changed (upsert).")
    unchanged: Int32 = Field(description="Rows equal to their record: nothing written, no new version.")
    rows: Int32 = Field(description="Data rows in the file.")
    file_name: str | None
    file_size: Int64 = Field(description="Bytes.")
    file_sha256: str
    actor_kind: str
    actor_id: Int64
    actor_name: str
    at: datetime | None = Field(description="When it was imported; null for a dry run.")


REQUEST_BODY = {
    "required": True,
    "content": {
        MULTIPART: {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
    },
}


def imports_router(registry: Registry, specs: Mapping[str, ImportSpec], settings: Settings) -> APIRouter:
    """POST /imports and GET /imports/{id}, for the resources of `specs`."""
    router = APIRouter(prefix="/imports", tags=["imports"])
    paths = StrEnum("ImportableResource", [(p.replace("-", "_"), p) for p in specs])  # type: ignore[misc]
    resource_type: Any = paths
    limits = Limits(max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows)

    @router.post(
        "",
        status_code=201,
        response_model=ImportBatchRead,
        operation_id="create_import",
        summary="Import a CSV or XLSX file",
        description=(
            "The file as the multipart field `file`, or as the whole body with its Content-Type. "
            "Columns: those the CSV export of the resource writes (codes, or the `lang=vi|en` "
            "labels); references by id or statistical code; numbers, dates and enumerations as "
            "people write them. The whole file is checked first, the database's rules included; "
            "any problem and nothing is written: 422 with `errors` (row, column, value, message; "
            "at most 1,000) and `error_count`. `dry_run=true` checks everything and answers the "
            "counts (200) without writing. Imports of one resource take turns."
        ),
        openapi_extra={"requestBody": REQUEST_BODY},
        responses={
            200: {"description": "A dry run: the counts, nothing written.", "model": ImportBatchRead},
            201: {
                "description": "Imported; Location names the batch.",
                "headers": header("Location", "Idempotent-Replayed"),
            },
            **error_responses(400, 401, 403, 409, 413, 415, 422, 503, 504),
        },
    )
    async def create_import(
        request: Request,
        session: Session,
        principal: Editor,
        resource: Annotated[resource_type, Query(description="The resource: its API path.")],
        mode: Annotated[
            ImportMode,
            Query(description="create: an existing natural key is an error; upsert: it is updated."),
        ] = ImportMode.create,
        dry_run: Annotated[bool, Query(description="Check everything, write nothing.")] = False,
        as_of: Annotated[
            date | None,
            Query(
                description=(
                    "The day whose units a statistical code names, when the code named several "
                    "(default: today)."
                )
            ),
        ] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        spec = specs[str(resource)]
        data, name, content_type = await _file(request, settings.import_max_bytes)
        facts = file_facts(name, data)
        chosen = ImportMode(mode)

        async def run() -> idempotency.Answer:
            try:
                table = read_table(io.BytesIO(data), filename=name, content_type=content_type, limits=limits)
                batch = await run_import(
                    session,
                    spec,
                    table,
                    mode=chosen.value,
                    dry_run=dry_run,
                    as_of=as_of or date.today(),
                    actor=Who.of(actor_of(request, principal)),
                    facts=facts,
                    messages=registry.constraint_messages,
                    statement_timeout_ms=settings.import_statement_timeout_ms,
                )
            except SpreadsheetError as error:
                raise FileRejected(error) from None
            body = _body(spec, chosen, batch, facts, principal.kind, principal.id, principal.name)
            if batch.id is None:
                return idempotency.Answer(200, body, {})
            path = request.scope.get("root_path", "") + f"/api/v1/imports/{batch.id}"
            return idempotency.Answer(201, body, {"Location": public_link(request, path)})

        if idempotency_key is None:
            answer = await run()
        else:
            canonical = json.dumps(
                {"query": sorted(request.query_params.multi_items()), "file": facts.sha256}, sort_keys=True
            )
            fingerprint = idempotency.request_fingerprint("POST", request.url.path, canonical)
            return await idempotency.once(session, principal.credential, idempotency_key, fingerprint, run)
        return Response(answer.body, status_code=answer.status_code, media_type=JSON, headers=answer.headers)

    @router.get(
        "/{batch_id}",
        response_model=ImportBatchRead,
        operation_id="get_import",
        summary="Read an import batch",
        responses=error_responses(401, 403, 404, 422, 503),
    )
    async def get_import(
        session: Session, principal: Editor, batch_id: Annotated[Int64, Path(description="The batch's id.")]
    ) -> Response:
        batch = await session.scalar(select(ImportBatch).where(ImportBatch.id == batch_id))
        if batch is None:
            raise NotFound(tr("{resource} {id} does not exist", resource=tr("import batch"), id=batch_id))
        read = ImportBatchRead.model_validate(batch)
        return Response(read.model_dump_json().encode(), media_type=JSON)

    return router


def _body(
    spec: ImportSpec,
    mode: ImportMode,
    batch: Batch,
    facts: FileFacts,
    actor_kind: str,
    actor_id: int,
    actor_name: str,
) -> bytes:
    counts = batch.counts
    read = ImportBatchRead(
        id=batch.id,
        status="completed" if batch.id is not None else "dry_run",
        resource=spec.path,
        mode=mode,
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        rows=counts.created + counts.updated + counts.unchanged,
        file_name=facts.name,
        file_size=facts.size,
        file_sha256=facts.sha256,
        actor_kind=actor_kind,
        actor_id=actor_id,
        actor_name=actor_name,
        at=batch.at,
    )
    return read.model_dump_json().encode()


def _too_large(limit: int) -> FileRejected:
    return FileRejected(
        SpreadsheetError("too_large", tr("the file is over {limit} bytes", limit=limit), status=413)
    )


async def _file(request: Request, limit: int) -> tuple[bytes, str | None, str | None]:
    """The uploaded file's bytes, name and declared type: the multipart field `file`, or the body."""
    content_type = request.headers.get("content-type")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == MULTIPART:
        try:
            form = await request.form(max_files=1, max_fields=20, max_part_size=64 * 1024)
        except Exception:
            raise _form_problem(tr("the multipart form cannot be read")) from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _form_problem(tr("send the file as the multipart field `file`"))
        data = await upload.read(limit + 1)
        await form.close()
        if len(data) > limit:
            raise _too_large(limit)
        return data, upload.filename, upload.content_type
    data = await request.body()
    if len(data) > limit:
        raise _too_large(limit)
    return data, _name_of(request), content_type


def _name_of(request: Request) -> str | None:
    """The file name of a raw body, from Content-Disposition: attachment; filename="…"."""
    disposition = request.headers.get("content-disposition", "")
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename" and value:
            return value.strip('"')
    return None


def _form_problem(message: Text) -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(field="file", message=message, location="body")])
