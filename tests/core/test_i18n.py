"""Messages in Vietnamese: the catalog is complete and current, and clients that ask get it."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import httpx
import pytest

from app.core import locale_vi
from app.core.i18n import Text, negotiate, say, tr, validation_text
from app.models import Base
from tests import factories

VI = {"Accept-Language": "vi"}

APP = Path(__file__).resolve().parents[2] / "app"


def used_templates() -> dict[str, str]:
    """Every template passed to tr() in app/ (by reading the source), and every database rule's
    message, with where it is used."""
    found: dict[str, str] = {}
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr":
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path}:{node.lineno}: tr() takes a literal template"
                )
                found.setdefault(first.value, f"{path.relative_to(APP.parent)}:{node.lineno}")
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            message = constraint.info.get("message")
            if message is not None:
                found.setdefault(str(message), f"rule {constraint.name} of {table.name}")
        for name, message in table.info.get("rules", {}).items():
            found.setdefault(str(message), f"rule {name} of {table.name} (a trigger's)")
    return found


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_has_a_vietnamese_text_with_the_same_placeholders() -> None:
    used = used_templates()
    missing = [
        f"{where}: {template!r}" for template, where in used.items() if template not in locale_vi.MESSAGES
    ]
    assert not missing, "no Vietnamese text in app/core/locale_vi.py for:\n" + "\n".join(missing)
    differ = [t for t in used if placeholders(t) != placeholders(locale_vi.MESSAGES[t])]
    assert not differ, f"placeholders differ: {differ}"


def test_the_catalog_holds_nothing_no_longer_used() -> None:
    stale = sorted(set(locale_vi.MESSAGES) - set(used_templates()))
    assert not stale, f"app/core/locale_vi.py has texts nothing uses: {stale}"


def test_rule_messages_are_translatable() -> None:
    rule = Base.metadata.tables["village"].constraints
    messages = [c.info["message"] for c in rule if "message" in c.info]
    assert messages and all(isinstance(m, Text) for m in messages)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("vi", "vi"),
        ("vi-VN", "vi"),
        ("VI-vn;q=0.9", "vi"),
        ("en-US,vi;q=0.5", "en"),
        ("fr, vi;q=0.4, en;q=0.3", "vi"),
        ("vi;q=0, en", "en"),
        ("de, fr", "en"),
        ("*", "en"),
        ("vi;q=abc", "en"),
        ("en;q=0.5, vi;q=0.8", "vi"),
        ("vi;q=0.8, en;q=0.8", "vi"),
    ],
)
def test_accept_language_is_negotiated(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_a_text_is_english_until_said_in_vietnamese() -> None:
    message = tr("{resource} {id} does not exist", resource="village", id=7)
    assert message == "village 7 does not exist"
    assert say(message, "en") == "village 7 does not exist"
    assert say(message, "vi") == "village 7 không tồn tại"  # a plain str value stays as it is
    assert (
        say(tr("{resource} {id} does not exist", resource=tr("village"), id=7), "vi")
        == "làng nghề 7 không tồn tại"
    )
    nested = tr("group_by: {message}", message=tr("a dimension is repeated"))
    assert say(nested, "vi").endswith("một chiều bị lặp lại")
    assert say("plain text", "vi") == "plain text"


def test_validation_messages_fall_back_to_english_for_unknown_types() -> None:
    assert validation_text("no_such_type", "as Pydantic said", {}, "vi") == "as Pydantic said"
    assert validation_text("missing", "Field required", {}, "vi") == locale_vi.VALIDATION["missing"]


async def test_problems_answer_in_vietnamese_when_asked(client: httpx.AsyncClient) -> None:
    english = await client.get("/api/v1/villages/999999999")
    assert english.status_code == 404
    assert english.headers["content-language"] == "en"
    assert "accept-language" in english.headers["vary"].lower()
    assert english.json()["title"] == "Not Found"

    answer = await client.get("/api/v1/villages/999999999", headers={"Accept-Language": "vi-VN,vi;q=0.9"})
    assert answer.status_code == 404
    assert answer.headers["content-language"] == "vi"
    body = answer.json()
    assert body["title"] == "Không tìm thấy"
    assert body["detail"] == "làng nghề 999999999 không tồn tại"
    assert body["type"] == english.json()["type"]  # the kind of problem is language-neutral


async def test_validation_errors_in_vietnamese(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/villages", json={"name": 5}, headers=VI)
    assert answer.status_code == 422
    body = answer.json()
    assert body["title"] == "Dữ liệu không hợp lệ"
    assert body["detail"].startswith("yêu cầu có trường không hợp lệ")
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["name"] == locale_vi.VALIDATION["string_type"]
    assert locale_vi.VALIDATION["missing"] in messages.values()
    wrong_group = await client.post("/api/v1/villages", json={"craft_group": "x"}, headers=VI)
    choice = {e["field"]: e["message"] for e in wrong_group.json()["errors"]}["craft_group"]
    assert "' hoặc '" in choice and " or " not in choice, choice


async def test_our_own_validator_messages_in_vietnamese(client: httpx.AsyncClient) -> None:
    district = await factories.district(client, (await factories.province(client))["id"])
    body = factories.village_body(district["id"], households_total=1, households_participating=2)
    answer = await client.post("/api/v1/villages", json=body, headers=VI)
    assert answer.status_code == 422
    expected = locale_vi.MESSAGES["households_participating must not exceed households_total"]
    assert expected in [e["message"] for e in answer.json()["errors"]]


async def test_database_rule_messages_in_vietnamese(client: httpx.AsyncClient) -> None:
    district = await factories.district(client, (await factories.province(client))["id"])
    village = await factories.village(client, district["id"])
    await factories.figure(client, village["id"], year=2015)
    again = await client.post(
        "/api/v1/village-figures", json={"village_id": village["id"], "year": 2015}, headers=VI
    )
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == locale_vi.MESSAGES["this village already has figures for this year"]
