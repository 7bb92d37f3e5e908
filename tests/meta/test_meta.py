"""Enumerations, probes, and the OpenAPI document with its problem responses."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.factories import API, PATHS

ROOT = Path(__file__).resolve().parents[2]

# Every published enumeration and its codes, in order (the domain's published lists).
ENUMS = {
    "admin_level": "province district commune",
    "craft_group": """agro_processing handicraft material_processing manufacturing ornamental salt
        rural_services""",
    "village_status": "unrecognised craft_village traditional_craft_village",
    "figure_qualifier": "exact approximate at_least",
    "legal_form": "cooperative cooperative_union cooperative_group",
    "cooperative_sector": """textile_garment mechanical wood_processing chemicals clean_water sedge
        agro_processing handicraft other""",
    "cooperative_status": "active suspended dissolved",
    "programme_kind": "industrial_extension trade_promotion",
    "extension_activity": """vocational_training management_and_startup demonstration_model
        new_products_and_branding consulting information linkage_and_environment
        international_cooperation extension_capacity digital_and_sustainable""",
    "promotion_activity": "fair_participation fair_hosting trade_conference market_information other",
    "programme_status": "planned approved in_progress completed cancelled",
    "funding_source": "central provincial district commune counterpart other",
    "fair_kind": "hosted attended overseas trade_conference",
}


async def test_enums_list_every_code_with_both_labels(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/meta/enums")
    assert response.status_code == 200
    body = response.json()
    assert set(ENUMS) <= set(body)
    for name, codes in ENUMS.items():
        assert [v["code"] for v in body[name]] == codes.split(), name
    for name, values in body.items():  # those of later features too
        assert values, name
        for value in values:
            assert set(value) == {"code", "vi", "en"}, (name, value)
            assert value["code"] and value["vi"].strip() and value["en"].strip(), (name, value)


@pytest.mark.parametrize(
    ("name", "code", "vi", "en"),
    [
        ("craft_group", "handicraft", "Sản xuất hàng thủ công mỹ nghệ", "Fine-art handicrafts"),
        (
            "village_status",
            "traditional_craft_village",
            "Làng nghề truyền thống",
            "Recognised traditional craft village",
        ),
        ("figure_qualifier", "at_least", "Trên", "At least"),
        ("legal_form", "cooperative_group", "Tổ hợp tác", "Co-operative group"),
        ("cooperative_sector", "sedge", "Cói", "Sedge"),
        ("programme_kind", "industrial_extension", "Khuyến công", "Industrial extension"),
        ("funding_source", "counterpart", "Vốn đối ứng", "Counterpart funds"),
    ],
)
async def test_labels(client: httpx.AsyncClient, name: str, code: str, vi: str, en: str) -> None:
    values = (await client.get(f"{API}/meta/enums")).json()[name]
    assert {"code": code, "vi": vi, "en": en} in values


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_at_the_newest_migration(client: httpx.AsyncClient) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    response = await client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["database"] == "ok"
    assert body["migration"] == body["expected_migration"] == head


# The problems each operation can answer with, at the least.
PROBLEMS = {
    ("get", ""): {"422"},
    ("post", ""): {"400", "409", "422"},
    ("get", "/{record_id}"): {"404", "422"},
    ("patch", "/{record_id}"): {"400", "404", "409", "422"},
    ("delete", "/{record_id}"): {"404", "409", "422"},
}
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


async def test_openapi_documents_problem_responses(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    operations = 0
    for resource in PATHS:
        for (method, suffix), wanted in PROBLEMS.items():
            operation = paths[f"{API}/{resource}{suffix}"][method]
            responses = operation["responses"]
            assert wanted <= set(responses), (resource, method, suffix, set(responses))
            operations += 1
    assert operations == 5 * len(PATHS)  # 30 for the six resources of today
    for path, item in paths.items():
        for method, operation in item.items():
            for status, documented in operation["responses"].items():
                if status.isdigit() and int(status) >= 400:
                    assert documented["content"] == PROBLEM_CONTENT, (method, path, status)
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    field_error = schema["components"]["schemas"]["FieldError"]
    assert {"field", "message", "location"} <= set(field_error["properties"])


async def test_openapi_money_is_an_integer(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for model, field in [
        ("TradeFairCreate", "contract_value_vnd"),
        ("VillageFigureCreate", "production_value_vnd"),
        ("FundingLine", "amount_vnd"),
        ("CooperativeCreate", "charter_capital_vnd"),
    ]:
        declared = schemas[model]["properties"][field]
        kinds = [declared] if "type" in declared else declared["anyOf"]
        assert {"integer"} <= {k.get("type") for k in kinds}, (model, declared)
        assert "number" not in {k.get("type") for k in kinds}, (model, declared)


@pytest.mark.parametrize(("url", "marker"), [("/docs", "swagger"), ("/redoc", "redoc")])
async def test_documentation_pages(client: httpx.AsyncClient, url: str, marker: str) -> None:
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert marker in response.text.lower()
    assert "/openapi.json" in response.text
