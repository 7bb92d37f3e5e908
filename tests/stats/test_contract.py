"""The statistics as a contract for generated clients: the OpenAPI document describes them exactly,
and real answers are valid against it with `additionalProperties: false` honoured.

The answers are the sample data grouped every way, the overview of several years, and records made
to hold each null a dimension can have. Each answer is checked twice: against the document itself
(with jsonschema_rs, as a client generated from it reads it) and against the response model in
pydantic's strict mode. What the document must say is written here by hand (names, dimensions,
measures, codes); only the response models come from the code under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from itertools import combinations
from typing import Any

import httpx
import jsonschema_rs
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from app.stats.schemas import CooperativeStats, Overview
from app.stats.specs import ALL_STATS, VILLAGE_STATS, shape_problems
from tests import factories as f
from tests.stats.helpers import DIMENSIONS, JSON, MEASURES, STATS

pytestmark = pytest.mark.usefixtures("fresh_stats_memory")

# The schema names a generated client gets.
NAMES = {
    "villages": "Village",
    "cooperatives": "Cooperative",
    "programmes": "Programme",
    "trade-fairs": "TradeFair",
}
CRAFT_GROUPS = [
    "agro_processing",
    "handicraft",
    "material_processing",
    "manufacturing",
    "ornamental",
    "salt",
    "rural_services",
]
SECTORS = [
    "textile_garment",
    "mechanical",
    "wood_processing",
    "chemicals",
    "clean_water",
    "sedge",
    "agro_processing",
    "handicraft",
    "other",
]
FAIR_KINDS = ["hosted", "attended", "overseas", "trade_conference"]
# Integers that are neither a count nor money: no format asked of them.
PLAIN_INTEGERS = {"year", "founded_year"}
JS_LIMIT = "9,007,199,254,740,991"
RANGED = {"villages", "programmes", "trade-fairs"}  # take year_from and year_to


@pytest.fixture
def document(app: FastAPI) -> JSON:
    return app.openapi()


def component(document: JSON, ref: str) -> JSON:
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), ref
    schema: JSON = document["components"]["schemas"][ref.removeprefix(prefix)]
    return schema


def answer_ref(document: JSON, path: str) -> str:
    """The $ref of the 200 answer of a statistics path."""
    ok = document["paths"][f"{STATS}/{path}"]["get"]["responses"]["200"]
    ref: str = ok["content"]["application/json"]["schema"]["$ref"]
    return ref


def validator(document: JSON, ref: str) -> Any:
    """A JSON Schema 2020-12 validator of the document's schema at `ref` (OpenAPI 3.1's dialect)."""
    return jsonschema_rs.Draft202012Validator({"$ref": ref, "components": document["components"]})


def response_model(path: str) -> type[BaseModel]:
    (stats,) = [s for s in ALL_STATS if s.path == path]
    return stats.response


def check_answer(document: JSON, ref: str, model: type[BaseModel], content: bytes) -> None:
    errors = [str(error) for error in validator(document, ref).iter_errors(json.loads(content))]
    assert not errors, errors[:5]
    model.model_validate_json(content, strict=True)


# -- the document ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(DIMENSIONS))
def test_group_by_is_an_array_of_the_dimension_enumeration(document: JSON, path: str) -> None:
    operation = document["paths"][f"{STATS}/{path}"]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "group_by"]
    assert parameter["in"] == "query"
    assert parameter["required"] is True
    # Form style, exploded: what every generator sends (group_by=a&group_by=b), OpenAPI's default.
    assert parameter.get("style", "form") == "form"
    assert parameter.get("explode", True) is True
    schema = parameter["schema"]
    assert schema["type"] == "array"
    assert (schema["minItems"], schema["maxItems"]) == (1, 3)
    assert schema["items"] == {"$ref": f"#/components/schemas/{NAMES[path]}Dimension"}
    assert component(document, schema["items"]["$ref"])["enum"] == DIMENSIONS[path]
    assert component(document, schema["items"]["$ref"])["type"] == "string"
    assert not [key for key in [*parameter, *schema] if key.startswith("x-")]
    # The answer echoes group_by, typed with the same enumeration.
    answer = component(document, answer_ref(document, path))
    assert answer["properties"]["group_by"]["items"] == schema["items"]


def test_the_answers_have_the_names_a_client_gets(document: JSON) -> None:
    for path, name in NAMES.items():
        assert answer_ref(document, path) == f"#/components/schemas/{name}Stats"
        answer = component(document, answer_ref(document, path))
        assert answer["properties"]["rows"]["items"] == {"$ref": f"#/components/schemas/{name}StatsRow"}
        assert answer["properties"]["totals"]["$ref"] == f"#/components/schemas/{name}StatsTotals"
    assert answer_ref(document, "overview") == "#/components/schemas/Overview"


def reachable(document: JSON, schema: JSON, seen: set[str]) -> Iterator[tuple[str, JSON]]:
    """Every schema under `schema`, following references, with the name of the property it is."""
    stack: list[tuple[str, JSON]] = [("", schema)]
    while stack:
        name, node = stack.pop()
        yield name, node
        if "$ref" in node:
            if node["$ref"] not in seen:
                seen.add(node["$ref"])
                stack.append((name, component(document, node["$ref"])))
            continue
        stack += [(prop, sub) for prop, sub in node.get("properties", {}).items()]
        stack += [
            (name, sub) for sub in node.get("anyOf", []) + node.get("oneOf", []) + node.get("allOf", [])
        ]
        if isinstance(node.get("items"), dict):
            stack.append((name, node["items"]))
        if isinstance(node.get("additionalProperties"), dict):
            stack.append((name, node["additionalProperties"]))


def statistics_schemas(document: JSON) -> list[tuple[str, JSON]]:
    seen: set[str] = set()
    found = []
    for path in ["overview", *DIMENSIONS]:
        found += list(reachable(document, {"$ref": answer_ref(document, path)}, seen))
    return found


def test_every_statistics_schema_is_closed_and_typed(document: JSON) -> None:
    """No free-form object, no `{}` (unknown in a generated client), no Any."""
    for name, node in statistics_schemas(document):
        assert node.get("additionalProperties", False) is False, (name, node)
        assert {"type", "$ref", "anyOf", "enum"} & set(node), ("an untyped schema", name, node)
        if node.get("type") == "object":
            assert node["additionalProperties"] is False, (name, node)
            assert node["properties"], (name, node)
        for option in node.get("anyOf", []):
            assert option.get("type") == "null" or {"type", "$ref"} & set(option), (name, node)


def test_money_is_unbounded_whole_dong_and_counts_are_int64(document: JSON) -> None:
    integers = [(name, node) for name, node in statistics_schemas(document) if node.get("type") == "integer"]
    money = [node for name, node in integers if name.endswith("_vnd")]
    assert len(money) >= 8
    for node in money:
        assert "format" not in node, node  # sums can exceed 64 bits
        assert "Whole đồng" in node["description"], node
        assert JS_LIMIT in node["description"], node
    counts = [
        (name, node) for name, node in integers if not name.endswith("_vnd") and name not in PLAIN_INTEGERS
    ]
    assert len(counts) >= 20
    for name, node in counts:
        assert node.get("format") == "int64", (name, node)


@pytest.mark.parametrize(
    ("part", "field", "codes"),
    [
        ("villages", "by_craft_group", CRAFT_GROUPS),
        ("cooperatives", "by_sector", SECTORS),
        ("trade_promotion", "fairs", FAIR_KINDS),
    ],
)
def test_each_summary_map_requires_every_code_and_no_other(
    document: JSON, part: str, field: str, codes: list[str]
) -> None:
    overview = component(document, answer_ref(document, "overview"))
    holder = component(document, overview["properties"][part]["$ref"])
    summary = component(document, holder["properties"][field]["$ref"])
    assert list(summary["properties"]) == codes
    assert summary["required"] == codes
    assert summary["additionalProperties"] is False
    assert all(prop["type"] == "integer" for prop in summary["properties"].values())


@pytest.mark.parametrize("path", list(DIMENSIONS))
def test_rows_require_the_measures_and_allow_each_dimension(document: JSON, path: str) -> None:
    answer = component(document, answer_ref(document, path))
    row = component(document, answer["properties"]["rows"]["items"]["$ref"])
    totals = component(document, answer["properties"]["totals"]["$ref"])
    assert sorted(row["required"]) == sorted(MEASURES[path])
    assert sorted(row["properties"]) == sorted([*MEASURES[path], *DIMENSIONS[path]])
    assert sorted(totals["required"]) == sorted(totals["properties"]) == sorted(MEASURES[path])


# Which dimensions may be null, and why: the one column behind each that is nullable or outer-joined.
NULLABLE = {
    ("cooperatives", "founded_year"),  # founded_on is optional
    ("programmes", "funding_source"),  # a programme without funding lines (code, vi and en null)
    ("trade-fairs", "province"),  # province is optional
    # The units: none as of a day it cannot be told (unassigned), no district for a 2025 commune,
    # no commune for a record placed in a district only, no department province for a programme
    # or a fair.
    ("villages", "province"),
    ("villages", "district"),
    ("villages", "commune"),
    ("cooperatives", "province"),
    ("cooperatives", "district"),
    ("cooperatives", "commune"),
    ("programmes", "province"),
    ("trade-fairs", "department_province"),
}


@pytest.mark.parametrize("path", list(DIMENSIONS))
def test_only_the_nullable_dimensions_admit_null(document: JSON, path: str) -> None:
    answer = component(document, answer_ref(document, path))
    row = component(document, answer["properties"]["rows"]["items"]["$ref"])
    for dimension in DIMENSIONS[path]:
        schema = row["properties"][dimension]
        if "$ref" in schema:  # an object: an enumeration's label or a district
            label = component(document, schema["$ref"])
            nullable = {"type": "null"} in label["properties"]["code"].get("anyOf", [])
            for key, prop in label["properties"].items():
                assert ({"type": "null"} in prop.get("anyOf", [])) is nullable, (dimension, key)
        else:
            nullable = {"type": "null"} in schema.get("anyOf", [])
        assert nullable is ((path, dimension) in NULLABLE), (path, dimension, schema)


def test_the_published_answers_match_the_statistics() -> None:
    assert [problem for stats in ALL_STATS for problem in shape_problems(stats)] == []
    problems = shape_problems(replace(VILLAGE_STATS, response=CooperativeStats))
    assert len(problems) == 3  # the dimensions, the totals and the rows
    assert "CooperativeDimension lists" in problems[0]


# -- real answers ----------------------------------------------------------------------------


def grouped_cases() -> list[tuple[str, dict[str, Any]]]:
    """Every set of 1 to 3 dimensions of each statistic (repeated parameters); with the year among
    them, once more over a closed range, which fills the missing years with zeros."""
    cases: list[tuple[str, dict[str, Any]]] = []
    for path, dims in DIMENSIONS.items():
        for size in (1, 2, 3):
            for chosen in combinations(dims, size):
                cases.append((path, {"group_by": list(chosen)}))
                if "year" in chosen and path in RANGED:
                    cases.append((path, {"group_by": list(chosen), "year_from": 2012, "year_to": 2017}))
        cases.append((path, {"group_by": list(reversed(dims[:3]))}))
    return cases


@pytest.mark.parametrize(("path", "params"), grouped_cases())
async def test_sample_answers_are_valid_against_the_document(
    seeded: httpx.AsyncClient, document: JSON, path: str, params: dict[str, Any]
) -> None:
    response = await seeded.get(f"{STATS}/{path}", params=params)
    assert response.status_code == 200, response.text
    check_answer(document, answer_ref(document, path), response_model(path), response.content)
    body = json.loads(response.content)
    assert body["group_by"] == params["group_by"]
    assert body["rows"], "the sample data have rows"
    for row in body["rows"]:  # a dimension is present exactly when grouped by it
        assert set(row) == {*params["group_by"], *MEASURES[path]}
    assert list(body["totals"]) == list(MEASURES[path])


@pytest.mark.parametrize("year", [1900, 2014, 2015, 2016, 2017, 2100])
async def test_sample_overviews_are_valid_and_list_every_code(
    seeded: httpx.AsyncClient, document: JSON, year: int
) -> None:
    response = await seeded.get(f"{STATS}/overview", params={"year": year})
    assert response.status_code == 200, response.text
    check_answer(document, answer_ref(document, "overview"), Overview, response.content)
    body = json.loads(response.content)
    assert list(body["villages"]["by_craft_group"]) == CRAFT_GROUPS
    assert list(body["cooperatives"]["by_sector"]) == SECTORS
    assert list(body["trade_promotion"]["fairs"]) == FAIR_KINDS


async def test_the_nulls_a_dimension_can_have_are_valid(client: httpx.AsyncClient, document: JSON) -> None:
    """A co-operative without founded_on, a programme without funding lines and a fair without a
    province, beside records that have them: their nulls are what the document allows."""
    places = await f.places(client)
    district_id = places.district["id"]
    await f.cooperative(client, district_id)
    await f.cooperative(client, district_id, name="HTX Dệt Hải Vân", founded_on="2004-06-12")
    await f.programme(client)
    await f.programme(
        client, name="Hỗ trợ mẫu mới", funding=[{"source": "provincial", "amount_vnd": 90_000_000}]
    )
    await f.fair(client)
    await f.fair(client, name="Hội chợ Hà Nội", kind="attended", province="Hà Nội")

    cases: list[tuple[str, list[str], str, Any]] = [  # the statistic, group_by, the dimension, its null
        ("cooperatives", ["founded_year"], "founded_year", None),
        ("cooperatives", ["district", "founded_year", "sector"], "founded_year", None),
        ("programmes", ["funding_source"], "funding_source", None),
        ("programmes", ["year", "funding_source", "activity"], "funding_source", None),
        ("trade-fairs", ["province"], "province", None),
        ("trade-fairs", ["kind", "province", "country"], "province", None),
    ]
    for path, group_by, dimension, null in cases:
        response = await client.get(f"{STATS}/{path}", params={"group_by": group_by})
        assert response.status_code == 200, response.text
        check_answer(document, answer_ref(document, path), response_model(path), response.content)
        rows = json.loads(response.content)["rows"]
        assert len(rows) == 2, rows
        assert [row[dimension] == null for row in rows].count(True) == 1, (path, group_by, rows)


async def test_sums_beyond_sixty_four_bits_are_valid(client: httpx.AsyncClient, document: JSON) -> None:
    """Money declares no format and no maximum: a sum past 2^64 is still a valid answer."""
    big = 9_000_000_000_000_000_000  # a line may hold it (< 2^63 - 1)
    line = {"source": "provincial", "amount_vnd": big}
    await f.programme(client, "Đề án khổng lồ", year=2020, funding=[line] * 3)
    response = await client.get(f"{STATS}/programmes", params={"group_by": "funding_source", "year": 2020})
    assert response.status_code == 200, response.text
    assert json.loads(response.content)["totals"]["support_vnd"] == 3 * big  # > 2^64
    check_answer(document, answer_ref(document, "programmes"), response_model("programmes"), response.content)
    overview = await client.get(f"{STATS}/overview", params={"year": 2020})
    assert json.loads(overview.content)["industrial_extension"]["support_vnd"] == 3 * big
    check_answer(document, answer_ref(document, "overview"), Overview, overview.content)
