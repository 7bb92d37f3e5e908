"""The 428 and 412 answers show the form If-Match takes and the record's current ETag, and carry
`current_version`, whatever the client got wrong."""

from __future__ import annotations

import httpx

from tests.factories import API, assert_problem, places

PROBLEM = "urn:craftvillage:problem:"


async def village_at_version_two(client: httpx.AsyncClient) -> str:
    at = await places(client)
    url = f"{API}/villages/{at.village_id}"
    changed = await client.patch(url, json={"households_total": 40}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"', changed.text
    return url


async def test_an_unquoted_if_match_is_428_showing_the_current_etag(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    url = await village_at_version_two(client)
    superscript_two = '"²"'.encode("latin-1")  # str.isdigit() would take it for a digit
    for header in (b"2", b"1", b"abc", superscript_two, b'"2', b'"2", 3'):
        response = await strict.patch(url, json={"households_total": 41}, headers=[(b"If-Match", header)])
        refused = assert_problem(response, 428)
        assert refused["type"] == PROBLEM + "precondition-required"
        assert refused["current_version"] == 2
        assert 'like "2"' in refused["detail"] and "in quotes" in refused["detail"], refused["detail"]
        assert '"3"' not in refused["detail"]
        assert refused["errors"] == [
            {"field": "If-Match", "message": 'an entity tag in quotes, like "2"', "location": "header"}
        ]
    deleted = assert_problem(await strict.delete(url, headers={"If-Match": "2"}), 428)
    assert deleted["current_version"] == 2 and 'like "2"' in deleted["detail"]
    assert (await strict.get(url)).json()["households_total"] == 40  # nothing changed


async def test_a_missing_if_match_is_428_with_the_current_etag(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    url = await village_at_version_two(client)
    missing = assert_problem(await strict.patch(url, json={"households_total": 41}), 428)
    assert missing["current_version"] == 2 and '(now "2")' in missing["detail"]
    assert missing["errors"][0]["message"] == "required, or `version` in the body"
    gone = assert_problem(await strict.delete(url), 428)
    assert gone["current_version"] == 2 and '(now "2")' in gone["detail"]
    assert "`version`" not in gone["detail"]  # a DELETE has no body to put it in


async def test_a_stale_if_match_is_412_naming_the_current_etag(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    url = await village_at_version_two(client)
    stale = await strict.patch(url, json={"households_total": 41}, headers={"If-Match": '"1"'})
    refused = assert_problem(stale, 412)
    assert refused["current_version"] == 2 and stale.headers["etag"] == '"2"'
    assert 'ETag "2"' in refused["detail"] and "not 1" in refused["detail"], refused["detail"]
    by_body = assert_problem(await strict.patch(url, json={"households_total": 41, "version": 1}), 412)
    assert by_body["current_version"] == 2 and 'ETag "2"' in by_body["detail"]


async def test_if_match_lists_and_weak_tags_compare_strongly(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    """RFC 9110 §13.1.1: a list matches when one of its tags is current; a weak tag never does."""
    url = await village_at_version_two(client)
    weak = assert_problem(
        await strict.patch(url, json={"households_total": 41}, headers={"If-Match": 'W/"2"'}), 412
    )
    assert weak["current_version"] == 2 and 'ETag "2"' in weak["detail"]
    stale = assert_problem(
        await strict.patch(url, json={"households_total": 41}, headers={"If-Match": '"1", W/"2"'}), 412
    )
    assert '"1", W/"2"' in stale["detail"]
    assert (await strict.get(url)).json()["households_total"] == 40  # nothing changed
    listed = await strict.patch(url, json={"households_total": 41}, headers={"If-Match": '"1", "2"'})
    assert listed.status_code == 200 and listed.headers["etag"] == '"3"', listed.text
    disagree = await strict.patch(
        url, json={"households_total": 42, "version": 1}, headers={"If-Match": '"3", "4"'}
    )
    assert_problem(disagree, 422)


async def test_if_match_star_says_no_version_and_is_428(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    url = await village_at_version_two(client)
    for response in (
        await strict.patch(url, json={"households_total": 41}, headers={"If-Match": "*"}),
        await strict.delete(url, headers={"If-Match": "*"}),
    ):
        refused = assert_problem(response, 428)
        assert (
            refused["current_version"] == 2
            and "If-Match: *" in refused["detail"]
            and '(now "2")' in refused["detail"]
        )
    assert (await strict.get(url)).status_code == 200


async def test_the_etag_of_a_read_with_fields_is_a_precondition_for_a_write(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    """An item read with `fields` answers "<version>.<hash>"; sent back in If-Match, its version is
    compared (found by a review: it was a 428 "not an entity tag")."""
    url = await village_at_version_two(client)
    tag = (await strict.get(url, params={"fields": "id,households_total"})).headers["etag"]
    assert tag.startswith('"2.'), tag
    written = await strict.patch(url, json={"households_total": 41}, headers={"If-Match": tag})
    assert written.status_code == 200 and written.headers["etag"] == '"3"', written.text
    stale = assert_problem(
        await strict.patch(url, json={"households_total": 42}, headers={"If-Match": tag}), 412
    )
    assert stale["current_version"] == 3
