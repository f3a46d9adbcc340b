"""`manage.py statement`: exact output as JSON and as a table, and one clear line per mistake."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests.statement_example import example

pytestmark = pytest.mark.django_db

PERIOD = ("--from", "2025-01-15", "--to", "2025-02-28")


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("statement", *args, stdout=out)
    return out.getvalue()


def test_json_for_an_account():
    books = example()
    payment, refund, item = books.payment.number, books.refund.number, books.item.pk
    printed = run("800001", *PERIOD, "--json")
    assert json.loads(printed) == {
        "account": 800001,
        "currency": "EUR",
        "from": "2025-01-15",
        "to": "2025-02-28",
        "opening_balance": "100.00",
        "closing_balance": "145.00",
        "movements": [
            {"date": "2025-01-20", "kind": "invoice", "reference": "INV-B",
             "amount": "200.00", "balance": "300.00"},
            {"date": "2025-01-25", "kind": "payment", "reference": payment,
             "amount": "-150.00", "balance": "150.00"},
            {"date": "2025-02-01", "kind": "credit_application", "reference": "INV-B",
             "amount": "0.00", "balance": "150.00"},
            {"date": "2025-02-03", "kind": "credit_note", "reference": "CN-9",
             "amount": "-20.00", "balance": "130.00"},
            {"date": "2025-02-05", "kind": "credit_application", "reference": f"#{item}",
             "amount": "5.00", "balance": "135.00"},
            {"date": "2025-02-10", "kind": "refund", "reference": refund,
             "amount": "10.00", "balance": "145.00"},
        ],
        "ageing": {"current": "0.00", "1-30": "150.00", "31-60": "0.00", "61-90": "0.00",
                   "90+": "0.00"},
        "credit": "5.00",
    }  # fmt: skip
    assert printed.startswith('{\n  "account": 800001,\n  "currency": "EUR",\n')


def test_json_by_account_id_for_a_contact():
    books = example()
    printed = run(
        str(books.account.guid), "--from", "2025-01-01", "--to", "2025-01-31",
        "--contact", str(books.contact.guid), "--json",
    )  # fmt: skip
    data = json.loads(printed)
    assert (data["opening_balance"], data["closing_balance"]) == ("0.00", "40.00")
    assert data["contact"] == str(books.contact.guid)
    assert data["movements"] == [
        {"date": "2025-01-10", "kind": "billing_item", "reference": f"#{books.item.pk}",
         "amount": "40.00", "balance": "40.00"},
    ]  # fmt: skip
    following = json.loads(
        run("800001", "--from", "2025-02-01", "--to", "2025-02-28",
            "--contact", str(books.contact.guid), "--json")
    )  # fmt: skip
    assert following["opening_balance"] == data["closing_balance"]
    assert following["closing_balance"] == "35.00"
    assert following["ageing"]["1-30"] == "35.00"


def test_table():
    books = example()
    payment, refund, item = books.payment.number, books.refund.number, f"#{books.item.pk}"
    assert run("800001", *PERIOD) == (
        "Statement of account 800001 Exact & Sons Ltd (EUR)\n"
        "From 2025-01-15 to 2025-02-28\n"
        "\n"
        "Date        Movement                    Reference               Amount       Balance\n"
        "            Opening balance                                                   100.00\n"
        "2025-01-20  Invoice issued              INV-B                   200.00        300.00\n"
        f"2025-01-25  Payment                     {payment:<16}       -150.00        150.00\n"
        "2025-02-01  Credit applied              INV-B                     0.00        150.00\n"
        "2025-02-03  Credit note                 CN-9                    -20.00        130.00\n"
        f"2025-02-05  Credit applied              {item:<16}          5.00        135.00\n"
        f"2025-02-10  Refund                      {refund:<16}         10.00        145.00\n"
        "            Closing balance                                                   145.00\n"
        "\n"
        "Owed on 2025-02-28 by lateness: current 0.00, 1-30 150.00, 31-60 0.00, 61-90 0.00, "
        "90+ 0.00\n"
        "Less the account's credit: 5.00\n"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("999", *PERIOD), "No account 999 (give its number or its account ID)."),
        (("nonsense", *PERIOD), "No account nonsense (give its number or its account ID)."),
        (("800001", "--from", "2025-02-30"), "--from: '2025-02-30' is not a date (YYYY-MM-DD)."),
        (
            ("800001", "--from", "2025-03-01", "--to", "2025-02-28"),
            "--from 2025-03-01 is after --to 2025-02-28.",
        ),
        (
            ("800001", *PERIOD, "--contact", "7d0c5f0e-0000-4000-8000-000000000000"),
            "No contact 7d0c5f0e-0000-4000-8000-000000000000 in account 800001.",
        ),
    ],
)
def test_mistakes(args, message):
    example()
    with pytest.raises(CommandError) as raised:
        call_command("statement", *args)
    assert str(raised.value) == message


def test_a_contact_of_another_account_is_refused():
    books = example()
    from tests.factories import ContactFactory

    stranger = ContactFactory()
    with pytest.raises(CommandError, match=f"No contact {stranger.guid} in account 800001."):
        call_command(
            "statement", str(books.account.number), *PERIOD, "--contact", str(stranger.guid)
        )
