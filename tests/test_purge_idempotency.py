import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from payments.models import IdempotencyRecord
from tests.factories import IdempotencyRecordFactory

pytestmark = pytest.mark.django_db


def record(key: str, hours_old: int) -> IdempotencyRecord:
    return IdempotencyRecordFactory(
        key=key, created_at=timezone.now() - datetime.timedelta(hours=hours_old)
    )


def test_purge_deletes_only_records_older_than_the_cutoff():
    record("old", hours_old=49)
    record("recent", hours_old=47)
    out = StringIO()

    call_command("purge_idempotency_records", stdout=out)

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    assert out.getvalue() == "Deleted 1 idempotency record(s) older than 48 hours.\n"


def test_purge_refuses_to_keep_keys_less_than_24_hours():
    record("young", hours_old=30)

    with pytest.raises(CommandError, match="at least 24 hours"):
        call_command("purge_idempotency_records", "--older-than", "23")

    assert IdempotencyRecord.objects.count() == 1
