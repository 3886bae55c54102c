"""Factory lists: a buyer uploads its whole list (JSON, CSV or a file) and gets, per row in
input order, the registry match and the decision, plus a summary; large lists are scoped
as a job whose status is polled."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile

from services.eligibility.api.deps import (
    EngineDep,
    JobsDep,
    RegistryDep,
    UnsupportedMediaType,
    invalid_body,
    json_body,
)
from services.eligibility.domain.access import ensure_sees_list, touches_scope
from services.eligibility.exports import csv_lines
from services.eligibility.jobs import SYNC_LIMIT, complete_list
from services.eligibility.jobs.gctune import batch_allocations
from services.eligibility.jobs.pipeline import scope
from services.eligibility.models import FactoryList
from services.eligibility.schemas import (
    FactoryListPage,
    FactoryListResult,
    FactoryListSummary,
    FactoryListUpload,
)
from services.eligibility.schemas.fields import IsoDate, Text
from services.eligibility.schemas.uploads import ParsedList, parse_csv, parse_json, parse_json_bytes
from services.eligibility.store.lists import (
    create_list,
    encode_upload,
    get_list,
    list_lists,
    read_rows,
    save_upload,
)
from shared.app import problem_responses
from shared.auth import Buyer, BuyerOrAdvisor
from shared.clock import today
from shared.db import SessionDep
from shared.errors import Conflict, Unprocessable
from shared.pagination import ROW_OFFSET, PageDep, PageParams, page_params
from shared.types import LINE_PATTERN, Id

router = APIRouter(tags=["factory lists"])

DEFAULT_ROWS = 2000
MAX_ROWS = 5000
# A list's rows page by offset (they are stored in input order, numbered from 0).
RowPage = Annotated[
    PageParams, Depends(page_params(default=DEFAULT_ROWS, maximum=MAX_ROWS, noun="Rows"))
]
_AS_OF = TypeAdapter(IsoDate)
_NAME = TypeAdapter(Text)


# The raw `text/csv` body is accepted but documented in the description only: client
# generators (openapi-python-client) cannot type a text/csv body and warn, so the
# machine-readable way to send a CSV is the multipart `file` field.
_UPLOAD_BODY = json_body(
    FactoryListUpload,
    (
        "multipart/form-data",
        {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The list as CSV (header row) or as JSON.",
                    },
                    "as_of": {"type": "string", "format": "date"},
                    "name": {"type": "string", "maxLength": 300, "pattern": LINE_PATTERN},
                },
            },
            "encoding": {"file": {"contentType": "text/csv, application/json"}},
        },
    ),
)
_UPLOAD_BODY["requestBody"]["description"] = (
    "The list as JSON (`{factories: [...], as_of?, name?}`), or as CSV with a header row "
    "(columns named like the JSON fields; `country` required; lists such as `products` "
    "separated by `;`) in the multipart file field `file` (which may also hold the JSON). "
    "The CSV may also be sent as the whole body with `Content-Type: text/csv`, e.g.\n\n"
    "```\nclient_ref,name,country,region,products,worker_count\n"
    "S-1,Golden Star Apparels Ltd,BD,Gazipur,garments,1200\n```"
)


def _reply(
    factory_list: FactoryList, rows: list[bytes], next_cursor: str | None, status_code: int
) -> Response:
    """The list's summary with its rows spliced in as stored (no JSON round trip)."""
    head = FactoryListSummary.model_validate(factory_list, from_attributes=True)
    body = b"".join(
        (
            head.model_dump_json().encode()[:-1],
            b',"results":[',
            b",".join(rows),
            b'],"next_cursor":',
            json.dumps(next_cursor).encode(),
            b"}",
        )
    )
    return Response(body, status_code=status_code, media_type="application/json")


async def _read_upload(request: Request) -> tuple[ParsedList, str, date | None, str | None]:
    """(rows, format, as_of, name) from whichever body the client sent."""
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    media_type = media_type.lower()
    if media_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Unprocessable("Send the list as a file in the multipart field 'file'.")
        content = await upload.read()
        is_json = "json" in (upload.content_type or "") or (upload.filename or "").endswith(".json")
        as_of_field, name_field = form.get("as_of"), form.get("name")
        try:
            as_of = _AS_OF.validate_python(as_of_field) if isinstance(as_of_field, str) else None
            name = _NAME.validate_python(name_field) if isinstance(name_field, str) else None
        except ValidationError as exc:
            raise invalid_body(exc) from exc
        if is_json:
            parsed, upload_as_of, upload_name = await _json_upload(content)
            return parsed, "json", as_of or upload_as_of, name or upload_name
        return await asyncio.to_thread(parse_csv, content), "csv", as_of, name
    content = await request.body()
    if media_type in ("text/csv", "application/csv", "text/plain"):
        return await asyncio.to_thread(parse_csv, content), "csv", None, None
    if media_type == "application/json" or media_type.endswith("+json"):
        parsed, as_of, name = await _json_upload(content)
        return parsed, "json", as_of, name
    raise UnsupportedMediaType(
        f"A factory list is sent as application/json, text/csv or multipart/form-data, "
        f"not {media_type}."
    )


async def _json_upload(content: bytes) -> tuple[ParsedList, date | None, str | None]:
    try:
        upload = await asyncio.to_thread(parse_json_bytes, content)
    except ValidationError as exc:
        raise invalid_body(exc) from exc
    return await asyncio.to_thread(parse_json, upload), upload.as_of, upload.name


@router.post(
    "/factory-lists",
    status_code=201,
    response_model=FactoryListResult,
    responses={
        202: {
            "description": "A large list: accepted and being scoped; poll its `status`.",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/FactoryListResult"}}
            },
        },
        **problem_responses(415),
    },
    openapi_extra=_UPLOAD_BODY,
)
async def create_factory_list(
    request: Request,
    principal: Buyer,
    session: SessionDep,
    engine: EngineDep,
    registry: RegistryDep,
    jobs: JobsDep,
    background: BackgroundTasks,
    as_of: Annotated[
        IsoDate | None, Query(description="Evaluation date for CSV and file uploads.")
    ] = None,
    name: Annotated[Text | None, Query(description="A name for the list.")] = None,
) -> Response:
    """Upload a factory list (up to 50,000 rows) and scope it against the registry.

    Lists of up to 2,000 rows are scoped at once (201, with the rows). Larger lists are a
    job (202, `status: queued`): poll GET /factory-lists/{id} until `status` is `done`
    (or `failed`). A row that cannot be read is `status: invalid` with its `error`; it never
    fails the list. Results stay available, also as CSV (GET /factory-lists/{id}/results.csv).
    """
    with batch_allocations():
        parsed, source_format, body_as_of, body_name = await _read_upload(request)
        if as_of is not None and body_as_of is not None and as_of != body_as_of:
            raise Unprocessable("as_of is given twice with different dates; give it once.")
        day = as_of or body_as_of or today()
        engine.require_rules_on(day)
        large = len(parsed.rows) > SYNC_LIMIT
        # A large list is a job leased to this process from the start (the sweeps of the
        # others leave it alone unless this process dies); its rows are stored with it.
        factory_list = await create_list(
            lease_holder=jobs.holder if large else None,
            leased_until=datetime.now(UTC) + jobs.lease if large else None,
            session=session,
            owner_org=principal.org,
            created_by=principal.user,
            name=name or body_name,
            status="queued" if large else "running",
            source_format=source_format,
            row_count=len(parsed.rows),
            as_of=day,
            countries=parsed.countries,
            warnings=parsed.warnings,
        )
        if large:
            rows_gz = await asyncio.to_thread(encode_upload, parsed.rows)
            await save_upload(
                session=session, list_id=factory_list.id, rows_gz=rows_gz, principal=principal
            )
            background.add_task(jobs.submit, list_id=factory_list.id)
            return _reply(factory_list, [], None, 202)
        outcome = await scope(
            session=session,
            engine=engine,
            registry=registry,
            rows=parsed.rows,
            as_of=day,
            viewer=principal,
        )
        lines = await complete_list(
            session=session, factory_list=factory_list, outcome=outcome, principal=principal
        )
        return _reply(factory_list, lines, None, 201)


@router.get("/factory-lists", response_model=FactoryListPage)
async def list_factory_lists(
    principal: BuyerOrAdvisor, session: SessionDep, page: PageDep
) -> FactoryListPage:
    """Factory lists: a buyer's own; for an advisor, the lists touching its countries."""
    owner = principal.org if principal.is_buyer else None
    rows, next_cursor = await list_lists(session=session, page=page, owner_org=owner)
    if principal.role == "advisor":
        rows = [r for r in rows if touches_scope(principal, r.countries)]
    items = [FactoryListSummary.model_validate(r, from_attributes=True) for r in rows]
    return FactoryListPage(items=items, next_cursor=next_cursor)


@router.get("/factory-lists/{list_id}", response_model=FactoryListResult)
async def get_factory_list(
    principal: BuyerOrAdvisor,
    session: SessionDep,
    list_id: Id,
    page: RowPage,
) -> Response:
    """A factory list's status and, once `done`, its rows (a page at a time) and summary."""
    factory_list = await get_list(session=session, list_id=list_id)
    ensure_sees_list(principal, factory_list)
    (start,) = page.start([ROW_OFFSET]) or (0,)
    if factory_list.status != "done":
        return _reply(factory_list, [], None, 200)
    rows = await read_rows(session=session, list_id=list_id, start=start, limit=page.limit)
    end = start + len(rows)
    more = end < factory_list.row_count
    return _reply(factory_list, rows, page.cursor_for([end], [ROW_OFFSET]) if more else None, 200)


@router.get(
    "/factory-lists/{list_id}/results.csv",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One line per input row, in input order.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(409),
    },
)
async def download_factory_list(
    principal: BuyerOrAdvisor, session: SessionDep, list_id: Id
) -> StreamingResponse:
    """The scoping result as CSV (once the list is `done`)."""
    factory_list = await get_list(session=session, list_id=list_id)
    ensure_sees_list(principal, factory_list)
    if factory_list.status != "done":
        raise Conflict(
            f"The list is {factory_list.status}"
            + (f" ({factory_list.error})" if factory_list.error else "")
            + ": its CSV is ready once the status is done."
        )
    rows = await read_rows(session=session, list_id=list_id, start=0, limit=None)
    return StreamingResponse(
        csv_lines(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{list_id}.csv"'},
    )
