"""The reference for `bench/load.py`: the smallest Django + DRF project that does what a payment
does in the database, and reads what the read endpoints read, with nothing else.

No authentication, no rate limits, no idempotency, no audit context, no middleware: each view is a
DRF `APIView` running raw SQL on the product's own tables (the same database), so what it costs is
the floor under the product's figures on the same machine, in the same run. It answers the same
paths and takes the same bodies as the product, so one wrk script drives both.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/billing_load \
        gunicorn bench.reference.wsgi --workers 4 --bind 127.0.0.1:8302

Never a part of the product: only `bench/load.py` starts it.
"""
