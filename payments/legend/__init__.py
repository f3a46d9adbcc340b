"""Legend-compatible club-management endpoints (contract section 2): POS/BillingPayments,
POS/Billings and POS/BillingWriteDowns. PascalCase JSON, amounts as JSON numbers."""
