from django.contrib import admin
from django.urls import path

admin.site.site_header = "Billing back office"
admin.site.site_title = "Billing back office"
admin.site.index_title = "Accounts, invoices and payments"

urlpatterns = [
    path("admin/", admin.site.urls),
]
