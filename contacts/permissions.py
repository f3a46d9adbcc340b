from rest_framework.permissions import BasePermission

from .authentication import request_grantee
from .selectors import NOT_ASKED, account_by_reference, has_privilege, has_privilege_anywhere


class HasAccountPrivilege(BasePermission):
    """The caller holds `view.required_privilege` on the account named by the URL's `account_id`.

    An unknown account is refused exactly like an account the caller may not see, so that account
    ids cannot be probed. On success the account is left on `view.account`.
    """

    message = "The caller is not an administrator of this account."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        account = getattr(getattr(request.user, "credential", None), "account_in_path", NOT_ASKED)
        if account is NOT_ASKED:  # a staff session, or a request the key's query did not scope
            account = account_by_reference(view.kwargs["account_id"])
        if account is None or not has_privilege(
            account_id=account.pk, privilege=view.required_privilege, **request_grantee(request)
        ):
            return False
        view.account = account
        return True


class HasPrivilegeOnSomeAccount(BasePermission):
    """The caller holds `view.required_privilege` on at least one account. Which account a
    request touches is known only from its body; the view checks that one too."""

    message = "The API key does not have the permission this operation needs."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return has_privilege_anywhere(privilege=view.required_privilege, **request_grantee(request))
