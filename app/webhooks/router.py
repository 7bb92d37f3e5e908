"""/api/v1/webhooks: administrators register, change and remove subscriptions, read each one's
delivery log and send a delivery again.

Annotations are evaluated at import (no `from __future__ import annotations`): FastAPI reads the
body models, built from the registry, from the endpoint signatures.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import events
from app.core.errors import Conflict, FieldError, InvalidInput, NotFound
from app.core.i18n import tr
from app.core.openapi import header
from app.core.problems import error_responses
from app.kit.deps import Admin, Session
from app.kit.pagination import MAX_LIMIT, MAX_OFFSET, link_header, public_link
from app.kit.principal import Principal
from app.kit.registry import Registry
from app.kit.types import Flag, Int32, Int64, QId, WholeNumber
from app.models import DeliveryStatus, SecurityAction, WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.webhooks import signing, targets

Url = Annotated[str, Field(min_length=1, max_length=2000)]
URL_DESCRIPTION = (
    "Where deliveries are POSTed: http:// or https://. Its host must resolve only to addresses the "
    "service may reach (not loopback, private, link-local or reserved, unless allowed by "
    "WEBHOOK_ALLOWED_NETWORKS); checked now and before every delivery."
)
Secret = Annotated[str, Field(min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$")]
SIGNING_KEY_DESCRIPTION = (
    "The HMAC-SHA256 key of X-Signature (16 to 200 printable characters, no spaces). Write-only: "
    "never returned. Left out, the service makes one and shows it once, in the 201."
)


class WebhookCreateBase(BaseModel):
    """A new subscription; webhooks_router() narrows `resources` to the registered paths."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[
        Url, Field(description=URL_DESCRIPTION, examples=["https://opendata.example.gov.vn/hooks/cv"])
    ]
    resources: list[str] | None = None
    secret: Annotated[Secret | None, Field(description=SIGNING_KEY_DESCRIPTION)] = None
    active: Annotated[Flag, Field(description="false registers it switched off.")] = True


class WebhookChangeBase(BaseModel):
    """Changes to a subscription: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[Url | None, Field(description=URL_DESCRIPTION)] = None
    resources: list[str] | None = None
    secret: Annotated[Secret | None, Field(description=SIGNING_KEY_DESCRIPTION)] = None
    active: Annotated[
        Flag | None,
        Field(description="false switches it off; true switches it on again and clears its run of failures."),
    ] = None


class WebhookRead(BaseModel):
    """A subscription. Its secret is never shown again after the answer that created it."""

    id: Int64
    url: str
    resources: list[str] | None = Field(description="The resources whose changes are sent; null: all.")
    active: bool = Field(description="false: nothing is sent; deliveries wait until it is true again.")
    disabled_reason: str | None = Field(description="Why the service disabled it, after a run of failures.")
    consecutive_failures: Int32 = Field(description="Failed attempts since the last delivered one.")
    created_by: str
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret. Shown this once: keep it with the receiver.")


class AttemptRead(BaseModel):
    at: datetime = Field(description="When the attempt began.")
    duration_ms: Int32
    status_code: Int32 | None = Field(description="The receiver's HTTP status; null when none came.")
    error: str | None = Field(
        description=(
            "Why no status came: timeout, connect_error, dns_error, refused_address (the URL's host "
            "now resolves to an address not allowed) or another transport error's class."
        )
    )
    excerpt: str | None = Field(description="The start of the receiver's answer (at most 200 characters).")


class DeliveryRead(BaseModel):
    id: Int64
    event_id: Int64 = Field(description="The audit event delivered (X-Webhook-Event-Id).")
    resource: str
    record_id: Int64
    action: str
    status: DeliveryStatus = Field(
        description="pending (being tried), delivered (a 2xx came) or failed (retried past the budget)."
    )
    attempts: Int32
    queued_at: datetime = Field(description="When it was queued, or queued again by redeliver.")
    next_attempt_at: datetime | None = Field(description="When it is tried next; null unless pending.")
    delivered_at: datetime | None = Field(description="When a 2xx last came.")
    log: list[AttemptRead] = Field(description="Its attempts, oldest first.")


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    total: Int64
    limit: Int32
    offset: Int32


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: DeliveryStatus | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT), WholeNumber] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET), WholeNumber] = 0


WebhookId = Annotated[QId, Path(description="The subscription's id.")]
DeliveryId = Annotated[QId, Path(description="The delivery's id.")]


def _view(sub: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": sub.id,
        "url": sub.url,
        "resources": sub.resources,
        "active": sub.active,
        "disabled_reason": sub.disabled_reason,
        "consecutive_failures": sub.failure_run,
        "created_by": sub.created_by,
        "created_at": sub.created_at,
        "updated_at": sub.updated_at,
    }


async def _checked_url(request: Request, url: str) -> str:
    """The URL, when deliveries may go there; 422 naming `url` otherwise."""
    try:
        await targets.check(url, request.app.state.webhook_networks, request.app.state.webhook_resolver)
    except targets.Refused as refused:
        raise InvalidInput(
            tr("the request has invalid fields: {fields}", fields="url"),
            errors=[FieldError(field="url", message=refused.message, location="body")],
        ) from None
    return url


async def _find(session: AsyncSession, webhook_id: int, *, lock: bool = False) -> WebhookSubscription:
    query = select(WebhookSubscription).where(WebhookSubscription.id == webhook_id)
    sub = (await session.scalars(query.with_for_update() if lock else query)).first()
    if sub is None:
        raise NotFound(tr("webhook {id} does not exist", id=webhook_id))
    return sub


async def _deliveries(session: AsyncSession, found: list[WebhookDelivery]) -> list[dict[str, Any]]:
    ids = [d.id for d in found]
    attempts = (
        await session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)).order_by(WebhookAttempt.id)
        )
    ).all()
    by_delivery: dict[int, list[dict[str, Any]]] = {}
    for a in attempts:
        by_delivery.setdefault(a.delivery_id, []).append(
            {
                "at": a.at,
                "duration_ms": a.duration_ms,
                "status_code": a.status_code,
                "error": a.error,
                "excerpt": a.excerpt,
            }
        )
    return [
        {
            "id": d.id,
            "event_id": d.event_id,
            "resource": d.resource,
            "record_id": d.record_id,
            "action": d.action,
            "status": d.status,
            "attempts": d.attempts,
            "queued_at": d.queued_at,
            "next_attempt_at": d.next_attempt_at if d.status == DeliveryStatus.pending else None,
            "delivered_at": d.delivered_at,
            "log": by_delivery.get(d.id, []),
        }
        for d in found
    ]


async def _create(
    request: Request, session: AsyncSession, principal: Principal, body: WebhookCreateBase
) -> Any:
    """Register a subscription at the head of the feed; its view with the secret, shown once."""
    url = await _checked_url(request, body.url)
    horizon = await session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
    secret = body.secret or signing.new_secret()
    sub = WebhookSubscription(
        url=url,
        resources=[str(p) for p in body.resources] if body.resources is not None else None,
        secret=secret,
        active=body.active,
        position_xact=int(horizon or 0),
        position_id=0,
        created_by=principal.name,
    )
    session.add(sub)
    await session.flush()
    await session.refresh(sub)
    await events.record(
        session,
        events.from_request(request, principal),
        SecurityAction.webhook_created,
        webhook=(sub.id, sub.url),
    )
    return {**_view(sub), "secret": secret}


async def _change(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    sub: WebhookSubscription,
    body: WebhookChangeBase,
) -> Any:
    """Apply the fields sent; a security event names the ones that changed."""
    given = body.model_fields_set
    changed: list[str] = []
    if "url" in given and body.url is not None and body.url != sub.url:
        sub.url = await _checked_url(request, body.url)
        changed.append("url")
    if "resources" in given:
        wanted = [str(p) for p in body.resources] if body.resources is not None else None
        if wanted != sub.resources:
            sub.resources = wanted
            changed.append("resources")
    if "secret" in given and body.secret is not None:
        sub.secret = body.secret
        changed.append("secret")
    if "active" in given and body.active is not None and body.active != sub.active:
        sub.active = body.active
        changed.append("active")
        if body.active:
            sub.failure_run, sub.disabled_reason = 0, None
    if changed:
        sub.updated_at = func.now()
        await session.flush()
        await session.refresh(sub)
        await events.record(
            session,
            events.from_request(request, principal),
            SecurityAction.webhook_changed,
            webhook=(sub.id, sub.url),
            details={"changed": changed},
        )
    return _view(sub)


def webhooks_router(registry: Registry) -> APIRouter:
    """The subscriptions' endpoints; `resources` names the paths of `registry`."""
    router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
    paths: Any = registry.path_enum  # a class made at run time: a type only to pydantic
    resources_field = Field(
        default=None, description="Only changes of these resources; left out or null: every resource."
    )
    Create = create_model(
        "WebhookCreate", __base__=WebhookCreateBase, resources=(list[paths] | None, resources_field)
    )
    Change = create_model(
        "WebhookChange", __base__=WebhookChangeBase, resources=(list[paths] | None, resources_field)
    )

    @router.get(
        "",
        operation_id="list_webhooks",
        summary="Webhook subscriptions (administrators)",
        response_model=list[WebhookRead],
        responses=error_responses(401, 403),
    )
    async def list_webhooks(session: Session, _: Admin) -> Any:
        subs = (await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))).all()
        return [_view(s) for s in subs]

    @router.post(
        "",
        operation_id="create_webhook",
        status_code=201,
        summary="Register a webhook subscription; the answer shows its secret once (administrators)",
        description=(
            "The subscription receives the changes that commit from now on (no backlog): each as a "
            "POST of the changes feed's item and its event id, signed in X-Signature. See the README, "
            "*Pushed events (webhooks)*."
        ),
        response_model=WebhookCreated,
        responses=error_responses(400, 401, 403, 422),
    )
    async def create_webhook(
        request: Request,
        response: Response,
        session: Session,
        principal: Admin,
        body: Create,
    ) -> Any:
        response.headers["Cache-Control"] = "no-store"
        created = await _create(request, session, principal, body)
        response.headers["Location"] = public_link(request, f"/api/v1/webhooks/{created['id']}")
        return created

    @router.get(
        "/{webhook_id}",
        operation_id="read_webhook",
        summary="One webhook subscription (administrators)",
        response_model=WebhookRead,
        responses=error_responses(401, 403, 404, 422),
    )
    async def read_webhook(session: Session, _: Admin, webhook_id: WebhookId) -> Any:
        return _view(await _find(session, webhook_id))

    @router.patch(
        "/{webhook_id}",
        operation_id="change_webhook",
        summary="Change a subscription's URL, resources or secret, or switch it off or on (administrators)",
        response_model=WebhookRead,
        responses=error_responses(400, 401, 403, 404, 422),
    )
    async def change_webhook(
        request: Request,
        session: Session,
        principal: Admin,
        webhook_id: WebhookId,
        body: Change,
    ) -> Any:
        return await _change(request, session, principal, await _find(session, webhook_id, lock=True), body)

    @router.delete(
        "/{webhook_id}",
        operation_id="delete_webhook",
        status_code=204,
        summary="Remove a subscription and its delivery log (administrators)",
        responses=error_responses(401, 403, 404, 422),
    )
    async def delete_webhook(
        request: Request, session: Session, principal: Admin, webhook_id: WebhookId
    ) -> Response:
        sub = await _find(session, webhook_id, lock=True)
        await session.delete(sub)
        await session.flush()
        await events.record(
            session,
            events.from_request(request, principal),
            SecurityAction.webhook_deleted,
            webhook=(webhook_id, sub.url),
        )
        return Response(status_code=204)

    @router.get(
        "/{webhook_id}/deliveries",
        operation_id="list_webhook_deliveries",
        summary="A subscription's deliveries and their attempts, newest first (administrators)",
        response_model=DeliveryPage,
        responses={**error_responses(401, 403, 404, 422), 200: {"headers": header("Link")}},
    )
    async def list_deliveries(
        request: Request,
        response: Response,
        session: Session,
        _: Admin,
        webhook_id: WebhookId,
        query: Annotated[DeliveryQuery, Query()],
    ) -> Any:
        await _find(session, webhook_id)
        where = [WebhookDelivery.subscription_id == webhook_id]
        if query.status is not None:
            where.append(WebhookDelivery.status == query.status.value)
        found = (
            await session.scalars(
                select(WebhookDelivery)
                .where(*where)
                .order_by(WebhookDelivery.id.desc())
                .limit(query.limit)
                .offset(query.offset)
            )
        ).all()
        total = await session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where)) or 0
        response.headers["Link"] = link_header(request, total=total, limit=query.limit, offset=query.offset)
        items = await _deliveries(session, list(found))
        return {"items": items, "total": total, "limit": query.limit, "offset": query.offset}

    @router.post(
        "/{webhook_id}/deliveries/{delivery_id}/redeliver",
        operation_id="redeliver_webhook_delivery",
        status_code=202,
        summary="Send a delivery again: queued now, with a fresh retry budget (administrators)",
        response_model=DeliveryRead,
        responses=error_responses(401, 403, 404, 409, 422),
    )
    async def redeliver(session: Session, _: Admin, webhook_id: WebhookId, delivery_id: DeliveryId) -> Any:
        await _find(session, webhook_id)
        delivery = (
            await session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == webhook_id)
                .with_for_update()
            )
        ).first()
        if delivery is None:
            raise NotFound(
                tr("delivery {id} of webhook {webhook} does not exist", id=delivery_id, webhook=webhook_id)
            )
        await _may_redeliver(session, delivery)
        delivery.status = DeliveryStatus.pending.value
        delivery.finished_at = None
        delivery.queued_at = func.now()
        delivery.next_attempt_at = func.now()
        await session.flush()
        await session.refresh(delivery)
        return (await _deliveries(session, [delivery]))[0]

    return router


async def _may_redeliver(session: AsyncSession, delivery: WebhookDelivery) -> None:
    """409 when sending the delivery again would break what the receiver relies on: a later
    change of the same record has been delivered or is being sent right now (this older body would
    put the receiver's copy back), or the delivery itself is being sent right now (its outcome
    would overwrite the new queueing).

    The later deliveries of the record are locked (FOR UPDATE) while this is decided: the worker
    claims with SKIP LOCKED, so it cannot start sending one of them between this check and the
    commit that queues this delivery again (and once queued, this earlier one goes first)."""
    leased = func.coalesce(func.now() < WebhookDelivery.lease_until, False)
    later = (
        await session.execute(
            select(WebhookDelivery.id, WebhookDelivery.status, leased)
            .where(
                WebhookDelivery.subscription_id == delivery.subscription_id,
                WebhookDelivery.resource == delivery.resource,
                WebhookDelivery.record_id == delivery.record_id,
                tuple_(WebhookDelivery.xact, WebhookDelivery.event_id)
                > tuple_(delivery.xact, delivery.event_id),
            )
            .order_by(WebhookDelivery.xact.desc(), WebhookDelivery.event_id.desc())
            .with_for_update()
        )
    ).all()
    for later_id, status, in_flight_later in later:
        if status == DeliveryStatus.delivered.value:
            raise Conflict(
                tr(
                    "a later change of the same record was delivered (delivery {later}): sending this one "
                    "again would put the receiver back to an older state; redeliver {later} instead",
                    later=later_id,
                )
            )
        if status == DeliveryStatus.pending.value and in_flight_later:
            raise Conflict(
                tr(
                    "a later change of the same record is being sent right now (delivery {later}): "
                    "sending this one again would put the receiver back to an older state",
                    later=later_id,
                )
            )
    in_flight = await session.scalar(
        select(func.now() < WebhookDelivery.lease_until).where(WebhookDelivery.id == delivery.id)
    )
    if delivery.status == DeliveryStatus.pending.value and in_flight:
        raise Conflict(tr("delivery {id} is being sent right now: wait for its outcome", id=delivery.id))
