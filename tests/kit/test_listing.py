"""What every collection shares: paging with Link headers, sorting, Vietnamese search."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.__main__ import migrate
from app.core.db import make_sessionmaker
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import committed_key
from tests.factories import (
    API,
    PATHS,
    Places,
    assert_invalid,
    create,
    facts,
    ids,
    links,
    names,
    paths_where,
    places,
    valid_body,
    village,
)


async def make(client: httpx.AsyncClient, path: str, at: Places, how_many: int) -> list[int]:
    return [(await create(client, path, valid_body(path, at, n)))["id"] for n in range(how_many)]


@pytest.mark.parametrize("path", PATHS)
async def test_pages_and_links(client: httpx.AsyncClient, path: str) -> None:
    at = await places(client)
    made = await make(client, path, at, 5)
    only_made = facts(path).only_made
    query = f"{only_made}&sort=id"
    key, value = only_made.split("=")

    async def page(limit: int, offset: int) -> tuple[list[int], int, dict[str, dict[str, list[str]]]]:
        response = await client.get(f"{API}/{path}?{query}&limit={limit}&offset={offset}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["limit"], body["offset"]) == (limit, offset)
        rels = links(response)
        for params in rels.values():
            assert params[key] == [value] and params["sort"] == ["id"] and params["limit"] == [str(limit)]
        return ids(body), body["total"], {rel: p for rel, p in rels.items()}

    def offsets(rels: dict[str, dict[str, list[str]]]) -> dict[str, int]:
        """The offsets of the links; next continues by cursor, so it has none."""
        assert "offset" not in rels.get("next", {})
        return {rel: int(p["offset"][0]) for rel, p in rels.items() if rel != "next"}

    async def follow_next(rels: dict[str, dict[str, list[str]]]) -> list[int]:
        response = await client.get(f"{API}/{path}", params=rels["next"])
        assert response.status_code == 200, response.text
        assert response.json()["offset"] == 0
        return ids(response.json())

    items, total, rels = await page(2, 0)
    assert (items, total) == (made[0:2], 5)
    assert offsets(rels) == {"first": 0, "last": 4} and "next" in rels
    assert await follow_next(rels) == made[2:4]

    items, total, rels = await page(2, 2)
    assert (items, total) == (made[2:4], 5)
    assert offsets(rels) == {"first": 0, "prev": 0, "last": 4} and "next" in rels
    assert await follow_next(rels) == made[4:5]

    items, total, rels = await page(2, 4)
    assert (items, total) == (made[4:5], 5)
    assert offsets(rels) == {"first": 0, "prev": 2, "last": 4}

    items, total, rels = await page(2, 3)
    assert (items, total) == (made[3:5], 5)
    assert offsets(rels) == {"first": 0, "prev": 1, "last": 4}

    items, total, rels = await page(5, 0)
    assert (items, total) == (made, 5)
    assert offsets(rels) == {"first": 0, "last": 0}

    items, total, rels = await page(3, 1_000_000_000)
    assert (items, total) == ([], 5)
    assert "next" not in rels
    assert offsets(rels)["last"] == 3


@pytest.mark.parametrize("path", PATHS)
async def test_empty_collection(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"{API}/{path}?limit=10&offset=20")
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 10, "offset": 20, "next": None}
    rels = links(response)
    assert {rel: p["offset"] for rel, p in rels.items() if rel != "prev"} == {"first": ["0"], "last": ["0"]}
    assert "next" not in rels


async def test_default_page_is_fifty(client: httpx.AsyncClient) -> None:
    at = await places(client)
    for n in range(51):
        await create(client, "village-figures", {"village_id": at.village_id, "year": 1950 + n})
    response = await client.get(f"{API}/village-figures?sort=year")
    body = response.json()
    assert (len(body["items"]), body["total"], body["limit"], body["offset"]) == (50, 51, 50, 0)
    assert body["items"][0]["year"] == 1950 and body["items"][-1]["year"] == 1999
    rels = links(response)
    assert rels["last"]["offset"] == ["50"] and rels["next"]["after"] == [body["next"]]
    rest = (await client.get(f"{API}/village-figures", params=rels["next"])).json()
    assert [item["year"] for item in rest["items"]] == [2000] and rest["next"] is None


async def test_links_keep_repeated_and_vietnamese_parameters(client: httpx.AsyncClient) -> None:
    at = await places(client)
    for n in range(3):
        await village(
            client, at.district_id, name=f"Vân Chàng {n}", status="craft_village", recognised_on="2006-05-10"
        )
    response = await client.get(
        f"{API}/villages",
        params=[
            ("status", "craft_village"),
            ("status", "traditional_craft_village"),
            ("q", "vân chàng"),
            ("limit", "1"),
        ],
    )
    assert response.json()["total"] == 3
    rels = links(response)
    assert set(rels) == {"first", "next", "last"}
    for params in rels.values():
        assert params["status"] == ["craft_village", "traditional_craft_village"]
        assert params["q"] == ["vân chàng"]
    assert [rels[r]["offset"] for r in ("first", "last")] == [["0"], ["2"]]
    assert rels["next"]["after"] == [response.json()["next"]]
    followed = await client.get(response.headers["link"].split(">; ")[1].split("<")[1])
    assert followed.status_code == 200
    assert (followed.json()["offset"], followed.json()["total"]) == (0, 3)
    # The search order (best match first) continues where the first page ended.
    second = await client.get(f"{API}/villages", params={"q": "vân chàng", "limit": "2", "offset": "1"})
    assert [v["id"] for v in followed.json()["items"]] == [second.json()["items"][0]["id"]]


@pytest.mark.parametrize("path", PATHS)
async def test_bad_paging_is_422(client: httpx.AsyncClient, path: str) -> None:
    for query in [
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=abc",
        "limit=2.5",
        "offset=-1",
        "offset=1000000001",
        "offset=x",
    ]:
        response = await client.get(f"{API}/{path}?{query}")
        assert_invalid(response, query.split("=", maxsplit=1)[0], location="query")


@pytest.mark.parametrize("path", PATHS)
async def test_largest_page_is_accepted(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"{API}/{path}?limit=500&offset=1000000000")
    assert response.status_code == 200
    assert (response.json()["limit"], response.json()["offset"]) == (500, 1_000_000_000)


# -- sorting ------------------------------------------------------------------------------------

# Vietnamese dictionary order: a < ă < â, d < đ, o < ô < ơ < u < ư; a plain C collation would put
# every accented capital (Ă, Đ) after Z.
IN_ORDER = ["An Xá", "Ăn Thượng", "Ba Vì", "Dong Xa", "Dương Xá", "Đông Xá", "Giao Thủy", "Zô"]
SHUFFLED = [IN_ORDER[i] for i in (6, 5, 4, 3, 2, 1, 7, 0)]


@pytest.mark.parametrize("path", paths_where(lambda known: known.named))
async def test_names_sort_in_vietnamese_order(client: httpx.AsyncClient, path: str) -> None:
    query = facts(path).only_made
    at = await places(client)
    for n, name in enumerate(SHUFFLED):
        await create(client, path, {**valid_body(path, at, n), "name": name})
    ascending = await client.get(f"{API}/{path}?{query}&sort=name")
    assert names(ascending.json()) == IN_ORDER
    descending = await client.get(f"{API}/{path}?{query}&sort=-name")
    assert names(descending.json()) == IN_ORDER[::-1]


async def test_vietnamese_order_holds_on_a_database_with_a_linguistic_collation(server_url: str) -> None:
    name = f"cv_icu_{uuid.uuid4().hex[:10]}"
    plain = make_url(server_url).set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        await conn.execute(
            f"CREATE DATABASE {name} TEMPLATE template0"
            " LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
    except asyncpg.PostgresError as error:  # a server built without ICU (the embedded one)
        pytest.skip(f"this server cannot make an ICU database: {error}")
    finally:
        await conn.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_async_engine(url)
    try:
        await asyncio.to_thread(migrate, url)
        app = create_app(Settings(database_url=url))
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        transport = httpx.ASGITransport(app=app)
        key = {"X-API-Key": await committed_key(engine)}
        async with httpx.AsyncClient(transport=transport, base_url="http://icu", headers=key) as client:
            province = await create(
                client, "admin-units", {"code": "36", "name": "Nam Định", "level": "province"}
            )
            district = await create(
                client,
                "admin-units",
                {"code": "362", "name": "Nam Trực", "level": "district", "parent_id": province["id"]},
            )
            for village_name in SHUFFLED:
                await village(client, district["id"], name=village_name)
            page = (await client.get(f"{API}/villages?sort=name")).json()
        assert names(page) == IN_ORDER
    finally:
        await engine.dispose()
        conn = await asyncpg.connect(plain.render_as_string(hide_password=False))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def test_tones_sort_in_dictionary_order(client: httpx.AsyncClient) -> None:
    at = await places(client)
    for name in ["Mạ", "Má", "Mã", "Mả", "Mà", "Ma", "Mác", "Mai"]:
        await village(client, at.district_id, name=name)
    page = (await client.get(f"{API}/villages?craft_group=manufacturing&sort=name")).json()
    assert names(page) == ["Ma", "Mà", "Mả", "Mã", "Má", "Mạ", "Mác", "Mai"]


async def test_multi_key_sort(client: httpx.AsyncClient) -> None:
    at = await places(client)
    rows = [
        ("Bảo Lộc", "salt", 300),
        ("An Lạc", "salt", None),
        ("Cổ Chất", "handicraft", 300),
        ("Ân Phú", "handicraft", 100),
        ("Đông Mai", "salt", 100),
    ]
    made = {}
    for name, group, households in rows:
        made[name] = (
            await village(client, at.district_id, name=name, craft_group=group, households_total=households)
        )["id"]

    async def order(sort: str) -> list[str]:
        response = await client.get(f"{API}/villages?craft_group=salt,handicraft&sort={sort}")
        assert response.status_code == 200, response.text
        return names(response.json())

    assert await order("craft_group,name") == ["Ân Phú", "Cổ Chất", "An Lạc", "Bảo Lộc", "Đông Mai"]
    assert await order("-craft_group,-name") == ["Đông Mai", "Bảo Lộc", "An Lạc", "Cổ Chất", "Ân Phú"]
    # Empty values go last in both directions; ties fall back to the id.
    assert await order("households_total,name") == ["Ân Phú", "Đông Mai", "Bảo Lộc", "Cổ Chất", "An Lạc"]
    assert await order("-households_total,-name") == ["Cổ Chất", "Bảo Lộc", "Đông Mai", "Ân Phú", "An Lạc"]
    assert await order("-households_total") == ["Bảo Lộc", "Cổ Chất", "Ân Phú", "Đông Mai", "An Lạc"]
    assert await order("-id") == [name for name, _, _ in rows[::-1]]


@pytest.mark.parametrize("path", PATHS)
async def test_every_sortable_field_sorts(client: httpx.AsyncClient, path: str) -> None:
    for field in facts(path).sortable.split():
        for sort in (field, "-" + field, f"{field},-id"):
            response = await client.get(f"{API}/{path}?sort={sort}")
            assert response.status_code == 200, (sort, response.text)


@pytest.mark.parametrize("path", PATHS)
async def test_unknown_sort_field_is_422_naming_the_allowed(client: httpx.AsyncClient, path: str) -> None:
    sortable, known = facts(path).sortable, facts(path).sort_key  # known: a field it sorts by
    for sort in ["colour", f"{known},colour", "-search_text", f"{known} desc", f"{known};drop", "version"]:
        response = await client.get(f"{API}/{path}?sort={sort}")
        assert_invalid(response, "sort", location="query")
        for field in sortable.split():
            assert field in response.text, (sort, field)


# -- search -------------------------------------------------------------------------------------


@pytest.fixture
async def named(client: httpx.AsyncClient) -> dict[str, int]:
    at = await places(client)
    out = {}
    for name, crafts in [
        ("Vân Chàng", ["rèn"]),
        ("Ho\u00e0 Bình", []),  # tone mark on the a
        ("H\u00f2a Lạc", []),  # tone mark on the o
        ("Đông Xá", []),
        ("100% Tre", []),
        ("Làng_Gốm", []),
        ("La Xuyên", ["chạm khắc gỗ"]),
    ]:
        out[name] = (await village(client, at.district_id, name=name, crafts=crafts))["id"]
    return out


SEARCHES: list[tuple[str, list[str]]] = [
    ("van chang", ["Vân Chàng"]),
    ("VÂN CHÀNG", ["Vân Chàng"]),
    ("Va\u0302n", ["Vân Chàng"]),
    ("Va\u0302n Cha\u0300ng", ["Vân Chàng"]),
    ("chang van", ["Vân Chàng"]),
    ("  van   chang  ", ["Vân Chàng"]),
    ("van xyz", []),
    ("dong", ["Đông Xá"]),
    ("đông", ["Đông Xá"]),
    ("ĐÔNG XÁ", ["Đông Xá"]),
    ("Ho\u00e0", ["Ho\u00e0 Bình", "H\u00f2a Lạc"]),
    ("H\u00f2a", ["Ho\u00e0 Bình", "H\u00f2a Lạc"]),
    ("hoa", ["Ho\u00e0 Bình", "H\u00f2a Lạc"]),
    ("H\u00f2a Bi\u0300nh", ["Ho\u00e0 Bình"]),
    ("%", ["100% Tre"]),
    ("100%", ["100% Tre"]),
    ("%tre", []),
    ("_", ["Làng_Gốm"]),
    ("g_m", []),
    ("lang_gom", ["Làng_Gốm"]),
    ("\\", []),
    ("khắc", ["La Xuyên"]),
    ("kham khac", []),
    ("ren", ["Vân Chàng"]),
    ("gỗ xuyên", ["La Xuyên"]),
]


async def test_search(client: httpx.AsyncClient, named: dict[str, int], subtests: pytest.Subtests) -> None:
    for q, expected in SEARCHES:
        with subtests.test(q=q):
            response = await client.get(f"{API}/villages", params={"q": q, "sort": "id"})
            assert response.status_code == 200, response.text
            page = response.json()
            assert ids(page) == [named[n] for n in expected]
            assert page["total"] == len(expected)


async def test_blank_search_is_no_search(client: httpx.AsyncClient, named: dict[str, int]) -> None:
    page = (await client.get(f"{API}/villages", params={"q": "   "})).json()
    assert page["total"] == len(named) + 1  # and the village places() made


async def test_search_without_sort_puts_the_closest_first(
    client: httpx.AsyncClient, named: dict[str, int]
) -> None:
    district_id = (await client.get(f"{API}/villages/{named['Vân Chàng']}")).json()["district_id"]
    await village(client, district_id, name="Vân Chàng Thượng Hạ Đông Tây")
    page = (await client.get(f"{API}/villages", params={"q": "van chang"})).json()
    assert names(page)[0] == "Vân Chàng"
    assert page["total"] == 2


@pytest.mark.parametrize("path", PATHS)
async def test_every_collection_searches_without_tone_marks(client: httpx.AsyncClient, path: str) -> None:
    searched = facts(path).searched
    at = await places(client)
    other = valid_body(path, at, 1)
    if searched is not None:  # not by its own name (figures: by their village's)
        wanted = await searched(client, at)
    else:
        wanted = await create(client, path, {**valid_body(path, at, 2), "name": "Vân Chàng Đông"})
    await create(client, path, other)
    page = (await client.get(f"{API}/{path}", params={"q": "VAN CHANG"})).json()
    assert ids(page) == [wanted["id"]]
    assert page["total"] == 1


@pytest.mark.parametrize("path", PATHS)
async def test_bad_search_is_422(client: httpx.AsyncClient, path: str) -> None:
    for q in ["x" * 201, "a\x00b"]:
        assert_invalid(await client.get(f"{API}/{path}", params={"q": q}), "q", location="query")
