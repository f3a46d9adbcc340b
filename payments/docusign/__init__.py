"""DocuSign-compatible account billing API (contract section 1), on two mounts:

/restapi/v2.1/accounts/{accountId}/...  DocuSign's own models and errors (its SDKs work unchanged)
/v2.1/accounts/{accountId}/...          the seed's {"success": ..., "data" | "error": ...} envelope
"""
