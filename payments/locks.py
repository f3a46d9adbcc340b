"""Row locks for payments: taken after the invoices and billing items they touch."""

from .models import Payment


def lock_payment(payment_id: int) -> Payment:
    """Lock the payment row (`SELECT ... FOR UPDATE`) and return it."""
    return Payment.objects.select_for_update().get(pk=payment_id)
