"""The published OpenAPI document is one that client generators read right (issue 15):
complete request bodies, binary files, JSON-only JSON operations, enums with labels,
problem codes per error response, headers, OAuth2 flows, names, summaries. The
generators themselves run in scripts/clients.sh; these checks fail fast, in pytest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.core.enums import LABELS
from api.core.errors import CODES, PROBLEM_MEDIA_TYPE
from api.main import PUBLIC_PATHS
from api.openapi import SUMMARIES, TAGS
from api.schemas.reports import (
    TransitionIn,
    TransitionToEscalated,
    TransitionToResolved,
    TransitionToStatus,
)
from tests.support.problems import assert_problem
from tests.support.world import Org, build_org

REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    from api.main import create_app

    return create_app().openapi()


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def _schema(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    return doc["components"]["schemas"][ref[len(REF) :]] if ref else node


class TestRequestBodies:
    def test_no_json_body_mixes_properties_with_a_top_level_union(
        self, doc: dict[str, Any]
    ) -> None:
        """Generators make lossy fragments of `properties` + `anyOf`/`oneOf`: a body is a
        plain object, or a `oneOf` of complete variants with a discriminator."""
        for path, method, op in _operations(doc):
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                if media != "application/json":
                    continue
                body = _schema(doc, content["schema"])
                assert "anyOf" not in body, (method, path)
                if "oneOf" in body:
                    assert "properties" not in body, (method, path)
                    assert body["discriminator"]["propertyName"], (method, path)
                else:
                    assert body.get("type") == "object", (method, path)

    def test_transition_variants_are_complete_and_discriminated(self, doc: dict[str, Any]) -> None:
        body = doc["paths"]["/api/v1/reports/{report_id}/transitions"]["post"]["requestBody"]
        request = _schema(doc, body["content"]["application/json"]["schema"])
        mapping = request["discriminator"]["mapping"]
        assert request["discriminator"]["propertyName"] == "to"
        assert set(mapping) == {
            "submitted",
            "in_review",
            "escalated",
            "resolved",
            "dismissed",
            "withdrawn",
        }
        schemas = doc["components"]["schemas"]
        for target, ref in mapping.items():
            variant = schemas[ref[len(REF) :]]
            assert "comment" in variant["properties"], target  # nothing lost to a fragment
            assert "to" in variant["required"]
        assert set(schemas["TransitionToResolved"]["required"]) == {"to", "outcome"}
        assert set(schemas["TransitionToEscalated"]["required"]) == {"to", "authority", "reference"}
        assert "outcome" not in schemas["TransitionToStatus"]["properties"]

    @pytest.mark.parametrize(
        "variant", [TransitionToStatus, TransitionToEscalated, TransitionToResolved]
    )
    def test_every_documented_variant_is_what_the_server_reads(self, variant: Any) -> None:
        """The server reads TransitionIn; each variant's examples validate as one and its
        fields are TransitionIn's."""
        assert set(variant.model_fields) <= set(TransitionIn.model_fields)
        for example in variant.model_config["json_schema_extra"]["examples"]:  # type: ignore[index]
            assert TransitionIn.model_validate(example).to == variant.model_validate(example).to

    def test_every_field_a_caller_may_send_is_in_the_model(self, doc: dict[str, Any]) -> None:
        schemas = doc["components"]["schemas"]
        assert {"url", "handle", "platform", "kind", "display_name", "purpose"} <= set(
            schemas["AccountCreate"]["properties"]
        )
        assert {
            "url",
            "platform",
            "category",
            "description",
            "proposed_action",
            "observed_at",
            "impersonated_unit_id",
            "impersonated_member_id",
        } <= set(schemas["ReportCreate"]["properties"])
        assert set(schemas["ReportCreate"]["required"]) == {
            "url",
            "category",
            "description",
            "proposed_action",
        }

    def test_acknowledge_body_is_absent_or_an_object(self, doc: dict[str, Any]) -> None:
        op = doc["paths"]["/api/v1/documents/{document_id}/acknowledgements"]["post"]
        body = op["requestBody"]
        assert not body.get("required", False)
        assert body["content"]["application/json"]["schema"] == {"$ref": REF + "AcknowledgeIn"}

    def test_uploads_are_binary(self, doc: dict[str, Any]) -> None:
        files = 0
        for path, method, op in _operations(doc):
            content = op.get("requestBody", {}).get("content", {})
            for node in content.get("multipart/form-data", {}).values():
                schema = _schema(doc, node)
                for prop in schema.get("properties", {}).values():
                    assert prop.get("format") == "binary", (method, path)
                    assert "contentMediaType" not in prop
                    files += 1
        assert files == 2  # evidence and document files


class TestResponses:
    def test_json_operations_answer_json_only_and_files_are_binary(
        self, doc: dict[str, Any]
    ) -> None:
        for path, method, op in _operations(doc):
            for status, response in op["responses"].items():
                content = response.get("content", {})
                if status.startswith("2") and "application/json" in content:
                    assert list(content) == ["application/json"], (method, path)
                for media, body in content.items():
                    if not media.endswith("json") and media != "text/plain":
                        assert body["schema"] == {"type": "string", "format": "binary"}, (
                            method,
                            path,
                            media,
                        )

    def test_every_statistics_operation_has_an_export(self, doc: dict[str, Any]) -> None:
        paths = doc["paths"]
        for path in (
            "/api/v1/stats/compliance",
            "/api/v1/stats/reports",
            "/api/v1/stats/documents/{document_id}",
            "/api/v1/roster/syncs/{sync_id}/changes",
        ):
            export = paths[f"{path}/export"]["get"]
            fmt = next(p for p in export["parameters"] if p.get("name") == "format")
            assert fmt["required"] is True
            assert fmt["schema"]["enum"] == ["csv", "xlsx"]
            assert set(export["responses"]["200"]["content"]) == {
                "text/csv",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
            assert "format" not in {p.get("name") for p in paths[path]["get"]["parameters"]}

    def test_pages_always_carry_next_cursor(self, doc: dict[str, Any]) -> None:
        pages = [n for n in doc["components"]["schemas"] if n.endswith("Page")]
        assert len(pages) >= 10
        for name in pages:
            schema = doc["components"]["schemas"][name]
            assert set(schema["required"]) == {"items", "next_cursor"}, name
            assert {"type": "null"} in schema["properties"]["next_cursor"]["anyOf"]

    def test_response_headers_are_declared(self, doc: dict[str, Any]) -> None:
        for path, method, op in _operations(doc):
            names = {p.get("name") for p in op["parameters"] if "name" in p}
            for status, response in op["responses"].items():
                headers = response.get("headers", {})
                assert "X-Request-ID" in headers, (method, path, status)
                if status == "401":
                    assert "WWW-Authenticate" in headers
                if status == "429":
                    assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= set(headers)
                if status == "503":
                    assert "Retry-After" in headers
                if status == "201":
                    assert "Location" in headers, (method, path)
                if status.startswith("2") and "Idempotency-Key" in names:
                    assert "Idempotent-Replayed" in headers, (method, path)
        get_report = doc["paths"]["/api/v1/reports/{report_id}"]["get"]
        assert "ETag" in get_report["responses"]["200"]["headers"]
        assert "ETag" not in doc["paths"]["/api/v1/reports"]["get"]["responses"]["200"]["headers"]

    async def test_declared_headers_are_sent(self, client: httpx.AsyncClient, org: Org) -> None:
        r = await client.get(f"/api/v1/units/{org.a.id}", headers=org.headers("admin"))
        assert r.headers["etag"] == f'"{r.json()["version"]}"'
        assert r.headers["x-request-id"]
        r = await client.get("/api/v1/units")
        assert_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.headers["content-language"] == "vi"


@pytest.fixture
async def org(session: Any) -> Org:
    return await build_org(session)


class TestTypes:
    def test_named_closed_sets_are_enums(self, doc: dict[str, Any]) -> None:
        schemas = doc["components"]["schemas"]
        assert schemas["TokenRequest"]["properties"]["grant_type"] == {"$ref": REF + "GrantType"}
        assert schemas["MeAuth"]["properties"]["kind"] == {"$ref": REF + "PrincipalKind"}
        assert schemas["ReportSeries"]["properties"]["interval"] == {"$ref": REF + "SeriesInterval"}
        assert schemas["ReportSeries"]["properties"]["by"] == {"$ref": REF + "SeriesKey"}
        assert schemas["TimelineEntry"]["properties"]["kind"]["$ref"] == REF + "TimelineKind"
        assert schemas["RosterSyncSummary"]["properties"]["source"]["$ref"] == REF + "SyncSource"

    def test_every_enum_has_labels_and_is_in_meta_enums(self, doc: dict[str, Any]) -> None:
        by_class = {enum.__name__: labels for enum, labels in LABELS.values()}
        enums = {n: s for n, s in doc["components"]["schemas"].items() if "enum" in s}
        assert {"RowAction", "UnitAction", "GrantType", "TokenError"} <= set(enums)
        for name, schema in enums.items():
            assert name in by_class, f"{name} is not in api.core.enums.LABELS"
            labels = schema["x-enum-labels"]
            assert set(labels) == set(schema["enum"]) == set(by_class[name]), name
            assert all(v["vi"] and v["en"] for v in labels.values())
            assert "| code | vi | en |" in schema["description"]

    async def test_meta_enums_is_typed_and_complete(
        self, client: httpx.AsyncClient, doc: dict[str, Any]
    ) -> None:
        catalog = doc["components"]["schemas"]["EnumCatalog"]
        assert set(catalog["required"]) == set(LABELS)
        body = (await client.get("/api/v1/meta/enums")).json()
        assert set(body) == set(LABELS)
        for name, (enum, _labels) in LABELS.items():
            assert [v["code"] for v in body[name]] == [m.value for m in enum]

    async def test_version_is_consistent(
        self, client: httpx.AsyncClient, doc: dict[str, Any]
    ) -> None:
        version = (await client.get("/api/v1/meta/version")).json()["version"]
        assert doc["info"]["version"] == version

    def test_schema_names_are_readable(self, doc: dict[str, Any]) -> None:
        for name in doc["components"]["schemas"]:
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", name), name


class TestErrorsAndDescriptions:
    def test_every_problem_response_lists_its_codes_with_examples(
        self, doc: dict[str, Any]
    ) -> None:
        for path, method, op in _operations(doc):
            for status, response in op["responses"].items():
                media = response.get("content", {}).get(PROBLEM_MEDIA_TYPE)
                if media is None:
                    continue
                codes = response["x-problem-codes"]
                assert codes, (method, path, status)
                assert set(media["examples"]) == set(codes)
                for code in codes:
                    assert CODES[code][0] == int(status), (method, path, code)
                    assert f"`{code}`" in response["description"]
                    example = media["examples"][code]
                    if "$ref" in example:
                        example = doc["components"]["examples"][example["$ref"].rsplit("/", 1)[1]]
                    assert example["value"]["code"] == code

    def test_409s_say_what_conflicts(self, doc: dict[str, Any]) -> None:
        conflicts = [
            (p, m, op["responses"]["409"])
            for p, m, op in _operations(doc)
            if "409" in op["responses"]
        ]
        assert len(conflicts) >= 30
        for path, method, response in conflicts:
            assert response["description"] != "Conflict", (method, path)
            assert response["description"].startswith("Conflict: "), (method, path)
        declare = doc["paths"]["/api/v1/members/{member_id}/accounts"]["post"]["responses"]["409"]
        assert "duplicate_account" in declare["x-problem-codes"]

    def test_problem_carries_the_oauth_error(self, doc: dict[str, Any]) -> None:
        problem = doc["components"]["schemas"]["Problem"]
        assert problem["properties"]["error"]["anyOf"][0] == {"$ref": REF + "TokenError"}
        token = doc["paths"]["/api/v1/auth/token"]["post"]["responses"]["400"]
        example = token["content"][PROBLEM_MEDIA_TYPE]["examples"]["invalid_grant"]["value"]
        assert example["error"] == "invalid_grant"

    def test_summaries_are_unique_and_every_operation_is_described(
        self, doc: dict[str, Any]
    ) -> None:
        ops = list(_operations(doc))
        ids = {op["operationId"] for _p, _m, op in ops}
        assert ids <= set(SUMMARIES), sorted(ids - set(SUMMARIES))
        summaries = [op["summary"] for _p, _m, op in ops]
        assert len(summaries) == len(set(summaries))
        assert all(op.get("description", "").strip() for _p, _m, op in ops), [
            op["operationId"] for _p, _m, op in ops if not op.get("description")
        ]
        tags = {t["name"]: t["description"] for t in doc["tags"]}
        assert {t for _p, _m, op in ops for t in op["tags"]} <= set(tags)
        assert all(tags.values())
        assert [t["name"] for t in TAGS] == list(tags)

    def test_security_flows_and_public_operations(self, doc: dict[str, Any]) -> None:
        scheme = doc["components"]["securitySchemes"]["OAuth2"]
        assert set(scheme["flows"]) == {"password", "clientCredentials"}
        assert all(f["refreshUrl"] == "/api/v1/auth/token" for f in scheme["flows"].values())
        assert doc["servers"]
        for path, method, op in _operations(doc):
            if path in PUBLIC_PATHS:
                assert op["security"] == [], (method, path)
            else:
                assert op["security"] == [{"OAuth2": []}], (method, path)
            assert any(
                p.get("$ref") == "#/components/parameters/AcceptLanguage" for p in op["parameters"]
            ), (method, path)
