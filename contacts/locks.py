"""Row locks for the contacts app. The account row is the first lock any money service takes."""

from .models import Account


def lock_account(account_id: int) -> Account:
    """Lock the account row (`SELECT ... FOR UPDATE`) and return it, fresh from the database."""
    return Account.objects.select_for_update().get(pk=account_id)
