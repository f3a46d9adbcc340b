from django.db import models
from django.db.models import F, Q

from billing_site.money import ZERO, MoneyField
from contacts.models import Account, Contact


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Invoice(models.Model):
    """An account's invoice. `balance` is what is still owed; only the money service changes it."""

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
    """A line of an invoice, with DocuSign's invoice-item fields."""

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

    def __str__(self) -> str:
        return self.charge_name


class BillingItem(models.Model):
    """A contact's charge (Legend's BillingId). Only the money service changes `balance`."""

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
        ]
        indexes = [models.Index(fields=["contact", "due_date"], name="billing_item_contact_due")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.description}"

    @property
    def is_settled(self) -> bool:
        return self.balance == 0
