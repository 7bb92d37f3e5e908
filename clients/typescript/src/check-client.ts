// The TypeScript types generated from docs/openapi.json (openapi-typescript), called through
// openapi-fetch as an integrator would, on a live server.
//
// clients/check generates ../../build/typescript/schema.d.ts, checks this file with
// tsc --noEmit --strict, compiles it, and runs it with CRAFTVILLAGE_BASE_URL and
// CRAFTVILLAGE_API_KEY set (an administrator's key) against a throwaway server with the sample
// data. Every check runs even when one before it failed; the exit status is 1 when any failed.
import createClient from "openapi-fetch";

import type { components, paths } from "../../build/typescript/schema.js";

type Problem = components["schemas"]["Problem"];
type TradeFairRead = components["schemas"]["TradeFairRead"];
// A list page: whole records, or with `fields` only those asked for (Page_VillageFields_).
// Without `fields` it is always the first.
type VillagePage = components["schemas"]["Page_VillageRead_"];
type VillageDimension = components["schemas"]["VillageDimension"];
type VillageSortKey = components["schemas"]["VillageSortKey"];
type CraftGroup = components["schemas"]["CraftGroup"];

const PROBLEM_JSON = "application/problem+json";

class Failed extends Error {}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Failed(message);
  }
}

/** The body of an answer that should have one: openapi-fetch gives data or error, never both. */
function present<T>(value: T | undefined, response: Response): T {
  if (value === undefined) {
    throw new Failed(`expected a body, got ${response.status} ${response.statusText}`);
  }
  return value;
}

/** The typed problem of an error answer, after checking its status and media type. */
function problemOf(error: Problem | undefined, response: Response, status: number): Problem {
  expect(response.status === status, `expected ${status}, got ${response.status}`);
  const mediaType = response.headers.get("Content-Type") ?? "";
  expect(mediaType.startsWith(PROBLEM_JSON), `${status} answered as ${mediaType}`);
  const problem = present(error, response);
  expect(problem.status === status, `problem.status is ${problem.status}`);
  expect(problem.title !== "", "problem.title is empty");
  return problem;
}

/** The ETag header of an answer that declares one. */
function etagOf(response: Response): string {
  const etag = response.headers.get("ETag");
  expect(etag !== null, `no ETag on a ${response.status}`);
  return etag;
}

/** Money is whole đồng; above 2^53 a JavaScript number is no longer exact. */
function exactAmount(amount: number | null | undefined, what: string): void {
  expect(amount == null || Number.isSafeInteger(amount), `${what} ${amount} is not exact`);
}

const baseUrl = process.env["CRAFTVILLAGE_BASE_URL"] ?? "http://127.0.0.1:8000";
const apiKey = process.env["CRAFTVILLAGE_API_KEY"] ?? "";
if (apiKey === "") {
  console.log("CRAFTVILLAGE_API_KEY is not set (an editor's or administrator's API key)");
  process.exit(2);
}

// Reads need no credential. Writes send the API key in X-API-Key; send one credential only:
// a bearer token and an API key together get a 401.
// JSON answers and problems only: lists and statistics also answer text/csv, XLSX and GeoJSON (Accept or
// format=), which this program does not ask for; without the media type, `data` would be their union.
const api = createClient<paths, "application/json" | "application/problem+json">({ baseUrl });
const asEditor = { "X-API-Key": apiKey };

let villageId = 0;
let fairId = 0;
let fairEtag = "";
let passed = 0;
const failures: string[] = [];

async function step(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (failure) {
    if (!(failure instanceof Failed)) {
      throw failure;
    }
    failures.push(`${name}: ${failure.message}`);
    console.log(`FAIL ${name}: ${failure.message}`);
  }
}

// 1. A filtered list: total and items.
async function listVillages(): Promise<void> {
  const { data, response } = await api.GET("/api/v1/villages", {
    params: { query: { q: "van chang" } },
  });
  const page: VillagePage = present(data, response) as VillagePage;
  expect(page.total >= 1, `q=van chang found ${page.total} villages`);
  expect(page.items.length === Math.min(page.total, page.limit), "items do not match total");
  const first = page.items[0];
  expect(first !== undefined, "no item");
  expect(
    page.items.some((village) => village.name === "Vân Chàng"),
    `q=van chang found ${page.items.map((village) => village.name).join(", ")}`,
  );
  villageId = first.id;
  // A village placed in a commune of 2025 has no district (null); Vân Chàng of 2015 has one.
  const districtId = first.district_id;
  expect(districtId !== null && districtId !== undefined, "the village has no district");

  // sort is a list of keys, "-" for descending: within the one district, newest id first.
  const sort: VillageSortKey[] = ["district_id", "-id"];
  const byDistrict = await api.GET("/api/v1/villages", {
    params: { query: { district_id: [districtId], sort, limit: 5 } },
  });
  const districtPage = present(byDistrict.data, byDistrict.response) as VillagePage;
  expect(
    districtPage.items.every((village) => village.district_id === districtId),
    "district_id filter returned villages of other districts",
  );
  expect(districtPage.total >= districtPage.items.length, "total below the page size");
  const ids = districtPage.items.map((village) => village.id);
  expect(
    ids.every((id, i) => i === 0 || id < (ids[i - 1] ?? 0)),
    `sort=${sort.join(",")} gave ids ${ids.join(", ")}`,
  );
}

// 2. A statistic grouped by two dimensions: the answer echoes both, every row carries both.
async function groupedStatistic(): Promise<void> {
  const wanted: VillageDimension[] = ["craft_group", "status"];
  const { data, response } = await api.GET("/api/v1/stats/villages", {
    params: { query: { group_by: wanted, year: [2015] } },
  });
  const stats = present(data, response);
  expect(
    stats.group_by.length === wanted.length && wanted.every((d, i) => stats.group_by[i] === d),
    `asked group_by=${wanted.join(",")}, the answer says ${stats.group_by.join(",")}`,
  );
  expect(stats.rows.length > 0, "no rows");
  let counted = 0;
  const byGroup = new Map<CraftGroup, number>();
  for (const row of stats.rows) {
    // A row carries the dimensions asked for, and only those.
    const group = row.craft_group;
    expect(
      group !== undefined && row.status !== undefined,
      `a row lacks craft_group or status: ${JSON.stringify(row)}`,
    );
    expect(
      row.district === undefined && row.year === undefined,
      "a row has a dimension not asked for",
    );
    expect(group.vi !== "" && group.en !== "", "a craft group without labels");
    byGroup.set(group.code, (byGroup.get(group.code) ?? 0) + row.villages);
    expect(row.recognised <= row.villages, "more recognised villages than villages in a row");
    counted += row.villages;
  }
  expect(
    counted === stats.totals.villages,
    `rows add up to ${counted}, totals say ${stats.totals.villages}`,
  );
  exactAmount(stats.totals.production_value_vnd, "production_value_vnd");
  const groups = [...byGroup].sort(([a], [b]) => a.localeCompare(b));
  console.log(`     villages by craft group: ${groups.map(([g, n]) => `${g}=${n}`).join(", ")}`);
}

// 3. An ETag, then If-None-Match: 304 (a record, then a statistic).
async function conditionalRead(): Promise<void> {
  const path = "/api/v1/villages/{record_id}";
  const first = await api.GET(path, { params: { path: { record_id: villageId } } });
  const village = present(first.data, first.response);
  const etag = etagOf(first.response);
  expect(etag === `"${village.version}"`, `ETag ${etag} of version ${village.version}`);
  const again = await api.GET(path, {
    params: { path: { record_id: villageId }, header: { "If-None-Match": etag } },
  });
  expect(again.response.status === 304, `If-None-Match ${etag} answered ${again.response.status}`);
  expect(etagOf(again.response) === etag, "a 304 with another ETag");

  const byDistrict: VillageDimension[] = ["district"];
  const query = { group_by: byDistrict, year: [2015] };
  const stats = await api.GET("/api/v1/stats/villages", { params: { query } });
  present(stats.data, stats.response);
  const statsEtag = etagOf(stats.response);
  const unchanged = await api.GET("/api/v1/stats/villages", {
    params: { query, header: { "If-None-Match": statsEtag } },
  });
  expect(
    unchanged.response.status === 304,
    `a statistic with If-None-Match ${statsEtag} answered ${unchanged.response.status}`,
  );
}

// 4. The overview of a year.
async function overview(): Promise<void> {
  const { data, response } = await api.GET("/api/v1/stats/overview", {
    params: { query: { year: 2015 } },
  });
  const year = present(data, response);
  expect(year.year === 2015, `year ${year.year}`);
  const villages = year.villages;
  // The by-code counts are closed objects: one integer per code, zeros included.
  const groups = villages.by_craft_group;
  expect(
    0 < groups.handicraft && groups.handicraft <= villages.total,
    `${groups.handicraft} handicraft villages`,
  );
  const byGroup = Object.values(groups).reduce((sum, n) => sum + n, 0);
  expect(byGroup === villages.total, `by_craft_group adds up to ${byGroup}, not ${villages.total}`);
  expect(villages.recognised <= villages.total, "more recognised villages than villages");
  exactAmount(villages.production_value_vnd, "production_value_vnd");
  exactAmount(year.industrial_extension.support_vnd, "support_vnd");
  const fairs = year.trade_promotion.fairs;
  expect(Math.min(fairs.hosted, fairs.attended, fairs.overseas) >= 0, "fairs by kind");
}

// 5. A create with an Idempotency-Key, repeated: the same record.
async function create(): Promise<void> {
  const key = `clients-check-${crypto.randomUUID()}`;
  const body: components["schemas"]["TradeFairCreate"] = {
    name: "Hội chợ kiểm tra client TypeScript",
    kind: "hosted",
    start_on: "2015-10-01",
    end_on: "2015-10-05",
    city: "Nam Định",
    standard_booths: 120,
    contract_value_vnd: 2_500_000_000,
  };
  const params = { header: { "Idempotency-Key": key } };
  const first = await api.POST("/api/v1/trade-fairs", { params, body, headers: asEditor });
  const created: TradeFairRead = present(first.data, first.response);
  expect(first.response.status === 201, `create answered ${first.response.status}`);
  exactAmount(created.contract_value_vnd, "contract_value_vnd");
  fairId = created.id;
  fairEtag = etagOf(first.response);
  expect(fairEtag === `"${created.version}"`, `ETag ${fairEtag}`);
  const location = first.response.headers.get("Location") ?? "";
  expect(location.endsWith(`/trade-fairs/${created.id}`), `Location ${location}`);

  const second = await api.POST("/api/v1/trade-fairs", { params, body, headers: asEditor });
  const replayed = present(second.data, second.response);
  expect(second.response.status === 201, `the retry answered ${second.response.status}`);
  expect(replayed.id === created.id, `the retry made record ${replayed.id}, not ${created.id}`);
  expect(second.response.headers.get("Idempotent-Replayed") === "true", "not marked as replayed");
  expect(etagOf(second.response) === fairEtag, `the retry's ETag ${etagOf(second.response)}`);
}

// 6. PATCH with If-Match; then with the stale ETag: 412 as a typed Problem, whose
//    current_version gives the ETag to retry with.
async function update(): Promise<void> {
  const path = "/api/v1/trade-fairs/{record_id}";
  const stale = fairEtag;
  const { data, response } = await api.PATCH(path, {
    params: { path: { record_id: fairId }, header: { "If-Match": stale } },
    body: { visitors: 1500 },
    headers: asEditor,
  });
  const updated = present(data, response);
  expect(updated.visitors === 1500, `visitors ${updated.visitors}`);
  fairEtag = etagOf(response);
  expect(fairEtag === `"${updated.version}"` && fairEtag !== stale, `ETag ${fairEtag}`);

  const change = { visitors: 1600 };
  const refused = await api.PATCH(path, {
    params: { path: { record_id: fairId }, header: { "If-Match": stale } },
    body: change,
    headers: asEditor,
  });
  const problem = problemOf(refused.error, refused.response, 412);
  expect(typeof problem.detail === "string", "a 412 without detail");
  console.log(`     412: ${problem.title}: ${problem.detail}`);
  const current = problem.current_version;
  expect(current !== undefined, "a 412 without current_version");
  expect(current === updated.version, `current_version ${current}, not ${updated.version}`);

  const retried = await api.PATCH(path, {
    params: { path: { record_id: fairId }, header: { "If-Match": `"${current}"` } },
    body: change,
    headers: asEditor,
  });
  const again = present(retried.data, retried.response);
  expect(again.visitors === 1600, `visitors ${again.visitors} after the retry`);
  expect(again.version === current + 1, `version ${again.version} after ${current}`);
  fairEtag = etagOf(retried.response);
  expect(fairEtag === `"${again.version}"`, `ETag ${fairEtag}`);
}

// 7. An invalid change: 422 with the list of errors.
async function invalidUpdate(): Promise<void> {
  const refused = await api.PATCH("/api/v1/trade-fairs/{record_id}", {
    params: { path: { record_id: fairId }, header: { "If-Match": fairEtag } },
    body: { name: "", visitors: -1 },
    headers: asEditor,
  });
  const problem = problemOf(refused.error, refused.response, 422);
  const errors = problem.errors ?? [];
  expect(errors.length > 0, "a 422 without errors");
  const fields = new Set<string>();
  for (const error of errors) {
    if (!("field" in error)) {
      // An import's cell errors are the other kind of item.
      throw new Failed(`a field error expected, not ${JSON.stringify(error)}`);
    }
    expect(error.field !== "" && error.message !== "", `an empty error ${JSON.stringify(error)}`);
    expect(error.location === "body", `${error.field}: location ${error.location ?? "(none)"}`);
    fields.add(error.field);
  }
  expect(fields.has("name") && fields.has("visitors"), `errors name ${[...fields].join(", ")}`);
  console.log(`     422: ${problem.detail ?? ""}: ${[...fields].sort().join(", ")}`);
}

// 8. DELETE with If-Match; then the record is gone.
async function remove(): Promise<void> {
  const path = "/api/v1/trade-fairs/{record_id}";
  const deleted = await api.DELETE(path, {
    params: { path: { record_id: fairId }, header: { "If-Match": fairEtag } },
    headers: asEditor,
  });
  expect(deleted.response.status === 204, `delete: ${deleted.response.status}`);
  const gone = await api.GET(path, { params: { path: { record_id: fairId } } });
  const problem = problemOf(gone.error, gone.response, 404);
  console.log(`     404: ${problem.detail ?? ""}`);
}

await step("1 list villages (q, district_id)", listVillages);
await step("2 stats/villages group_by=craft_group,status", groupedStatistic);
await step("3 ETag and If-None-Match: 304 (record, statistic)", conditionalRead);
await step("4 stats/overview?year=2015", overview);
await step("5 create with Idempotency-Key, twice", create);
if (fairId !== 0) {
  await step("6 PATCH If-Match; stale: 412 Problem; retry with its version", update);
  await step("7 invalid PATCH: 422 Problem with errors", invalidUpdate);
  await step("8 DELETE If-Match, then GET: 404", remove);
} else {
  failures.push("6-8 not run: nothing was created");
}
for (const failure of failures) {
  console.log(`typescript client: FAILED ${failure}`);
}
console.log(`typescript client: ${passed} of 8 steps passed`);
process.exitCode = failures.length === 0 && passed === 8 ? 0 : 1;
