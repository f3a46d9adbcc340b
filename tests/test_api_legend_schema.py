"""The generated OpenAPI schema describes Legend's endpoints as partners see them (contract 3):
PascalCase names, amounts as numbers, one response object per call."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PATHS = {
    "/POS/BillingPayments": "post",
    "/POS/BillingWriteDowns": "post",
    "/POS/Billings": "get",
}


@pytest.fixture
def schema():
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    return response.json()


def component(schema, ref_holder):
    ref = ref_holder["$ref"]
    assert ref.startswith("#/components/schemas/")
    return schema["components"]["schemas"][ref.removeprefix("#/components/schemas/")]


def json_body(operation, status):
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_the_three_pos_paths_are_described(schema):
    pos_paths = {
        path: sorted(ops) for path, ops in schema["paths"].items() if path.startswith("/POS/")
    }

    assert pos_paths == {path: [method] for path, method in PATHS.items()}
    operations = {path: schema["paths"][path][method] for path, method in PATHS.items()}
    assert {path: op["operationId"] for path, op in operations.items()} == {
        "/POS/BillingPayments": "BillingPayments_Post",
        "/POS/BillingWriteDowns": "BillingWriteDowns_Post",
        "/POS/Billings": "Billings_Get",
    }
    for operation in operations.values():
        assert {"partnerKey": []} in operation["security"]
        assert {"200", "400", "401", "403"} <= set(operation["responses"])


def test_billing_payments_request_is_pascal_case_with_a_numeric_amount(schema):
    operation = schema["paths"]["/POS/BillingPayments"]["post"]
    request = component(schema, operation["requestBody"]["content"]["application/json"]["schema"])

    assert list(request["properties"]) == [
        "ContactId",
        "PaymentDate",
        "TenderTypeId",
        "BillingPayments",
    ]
    assert sorted(request["required"]) == [
        "BillingPayments",
        "ContactId",
        "PaymentDate",
        "TenderTypeId",
    ]
    assert request["properties"]["ContactId"] == {"type": "string", "format": "uuid"}
    assert request["properties"]["PaymentDate"] == {"type": "string", "format": "date-time"}
    assert request["properties"]["TenderTypeId"]["type"] == "integer"
    assert request["properties"]["BillingPayments"]["type"] == "array"
    line = component(schema, request["properties"]["BillingPayments"]["items"])
    assert list(line["properties"]) == [
        "BillingId",
        "Amount",
        "ThirdPartyReference",
        "Notes",
        "AuthorizationCode",
    ]
    assert sorted(line["required"]) == ["Amount", "BillingId"]
    assert line["properties"]["BillingId"]["type"] == "integer"
    assert line["properties"]["Amount"]["type"] == "number"
    for name in ("ThirdPartyReference", "Notes", "AuthorizationCode"):
        assert line["properties"][name]["type"] == "string"


def test_billing_payments_response_is_pascal_case(schema):
    operation = schema["paths"]["/POS/BillingPayments"]["post"]
    response = component(schema, json_body(operation, "200"))

    assert list(response["properties"]) == [
        "ContactId",
        "Success",
        "ErrorMessage",
        "BillingPayments",
    ]
    assert response["properties"]["Success"] == {"type": "boolean"}
    assert response["properties"]["ErrorMessage"] == {"type": "string", "nullable": True}
    result = component(schema, response["properties"]["BillingPayments"]["items"])
    assert list(result["properties"]) == [
        "BillingId",
        "Balance",
        "ProcessDate",
        "PaymentDate",
        "ErrorMessage",
    ]
    assert result["properties"]["BillingId"]["type"] == "integer"
    assert result["properties"]["Balance"]["type"] == "number"
    assert result["properties"]["ProcessDate"] == {
        "type": "string",
        "format": "date-time",
        "nullable": True,
    }
    assert result["properties"]["PaymentDate"] == {"type": "string", "format": "date-time"}
    assert result["properties"]["ErrorMessage"] == {"type": "string", "nullable": True}


def test_write_downs_request_and_response_are_pascal_case(schema):
    operation = schema["paths"]["/POS/BillingWriteDowns"]["post"]
    request = component(schema, operation["requestBody"]["content"]["application/json"]["schema"])
    response = component(schema, json_body(operation, "200"))

    assert list(request["properties"]) == [
        "ContactId",
        "WriteDownDate",
        "Notes",
        "BillingWriteDowns",
    ]
    assert "Notes" in request["required"]
    line = component(schema, request["properties"]["BillingWriteDowns"]["items"])
    assert list(line["properties"]) == ["BillingId", "Amount", "GLAccountId"]
    assert line["properties"]["Amount"]["type"] == "number"
    assert list(response["properties"]) == [
        "ContactId",
        "Success",
        "ErrorMessage",
        "BillingWriteDowns",
    ]
    result = component(schema, response["properties"]["BillingWriteDowns"]["items"])
    assert list(result["properties"]) == [
        "BillingId",
        "Balance",
        "ProcessDate",
        "WriteDownDate",
        "ErrorMessage",
    ]
    assert result["properties"]["Balance"]["type"] == "number"


def test_billings_takes_its_query_in_pascal_case(schema):
    operation = schema["paths"]["/POS/Billings"]["get"]

    assert [(p["in"], p["name"], p.get("required", False)) for p in operation["parameters"]] == [
        ("query", "ContactId", True),
        ("query", "OutstandingOnly", False),
    ]
    assert "404" in operation["responses"]


def test_billings_answers_one_object_not_an_array(schema):
    """`GET /POS/Billings` is a `list` action, but it answers one envelope object
    (`{"ContactId", "Success", "ErrorMessage", "Billings": [...]}`), not a JSON array of them."""
    operation = schema["paths"]["/POS/Billings"]["get"]
    body = json_body(operation, "200")

    assert "$ref" in body, body
    response = component(schema, body)
    assert list(response["properties"]) == ["ContactId", "Success", "ErrorMessage", "Billings"]
    billing = component(schema, response["properties"]["Billings"]["items"])
    assert list(billing["properties"]) == [
        "BillingId",
        "Description",
        "DueDate",
        "TotalAmount",
        "Balance",
    ]
    assert billing["properties"]["TotalAmount"]["type"] == "number"
    assert billing["properties"]["Balance"]["type"] == "number"
    assert billing["properties"]["DueDate"] == {"type": "string", "format": "date"}
