"""The staff pages: what is owed, how late, and the forms that act on it.

Built on the same selectors and services as the APIs (backoffice -> payments -> invoices ->
contacts): a view parses its input, calls one selector or service, and renders a template under
templates/backoffice/.
"""
