from django.db import models
from django.db.models import F, Q

from billing_site.money import ZERO, MoneyField
from contacts.models import Account, Contact


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Invoice(models.Model):
    """An account's invoice. `balance` is what is still owed; only the money service changes it.

    Unique on (account_id, id) as well as on id: what the account-scoped rows that point at an
    invoice (its items, payment allocations) reference with (invoice_id, account_id), so that the
    database keeps their account equal to the invoice's (billing_site/account_keys.py).
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=40, help_text="Unique within the account.")
    issue_date = models.DateField()
    due_date = models.DateField()
    amount = MoneyField()
    balance = MoneyField()
    status = models.CharField(
        max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "number"], name="invoice_number_per_account"
            ),
            models.UniqueConstraint(fields=["account", "id"], name="invoice_account_key"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(
                condition=Q(balance__gte=0, balance__lte=F("amount")),
                name="invoice_balance_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.OPEN, balance__gt=0)
                | Q(status=InvoiceStatus.PAID, balance=0)
                | Q(status=InvoiceStatus.VOID),
                name="invoice_status_matches_balance",
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issue_date")), name="invoice_due_after_issue"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status", "due_date"], name="invoice_account_due"),
            models.Index(fields=["status", "due_date"], name="invoice_status_due"),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"


class InvoiceItem(models.Model):
    """A line of an invoice, with DocuSign's invoice-item fields.

    `account` is the invoice's, set when the line is issued: every money table carries its
    account, the key to partition or distribute it by (docs/scaling.md, "Past one primary"). A
    CHECK cannot look at the invoice row, so a composite foreign key (invoice_id, account_id) ->
    invoice (id, account_id) keeps it equal to the invoice's (billing_site/account_keys.py,
    migration invoices/0003): a line with another account is refused by the INSERT.
    """

    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="invoice_items",
        editable=False,
        db_index=False,  # the index (account, invoice) below leads with it
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="items")
    charge_name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = MoneyField()
    charge_amount = MoneyField()
    tax_amount = MoneyField(default=ZERO)
    tax_exempt_amount = MoneyField(default=ZERO)

    class Meta:
        ordering = ["invoice", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, charge_amount__gte=0, tax_amount__gte=0)
                & Q(tax_exempt_amount__gte=0),
                name="invoice_item_amounts_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["account", "invoice"], name="invoice_item_account")]

    def __str__(self) -> str:
        return self.charge_name


class BillingItem(models.Model):
    """A contact's charge (Legend's BillingId). Only the money service changes `balance`.

    `account` is the contact's, set when the item is created (the partition and distribution key,
    docs/scaling.md). It is kept equal to the contact's by a composite foreign key (contact_id,
    account_id) -> contact (account_id, id) rather than a trigger: a key costs one index lookup the
    INSERT makes anyway, and it also stops the contact from moving to another account. Unique on
    (account_id, id) for the allocations and write-downs that point at it the same way.
    """

    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="billing_items",
        editable=False,
        db_index=False,  # the unique (account, id) below leads with it
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="billing_items")
    description = models.CharField(max_length=200)
    due_date = models.DateField()
    total_amount = MoneyField()
    balance = MoneyField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gt=0), name="billing_item_total_positive"
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0, balance__lte=F("total_amount")),
                name="billing_item_balance_within_total",
            ),
            models.UniqueConstraint(fields=["account", "id"], name="billing_item_account_key"),
        ]
        indexes = [models.Index(fields=["contact", "due_date"], name="billing_item_contact_due")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description}"

    @property
    def is_settled(self) -> bool:
        return self.balance == 0
