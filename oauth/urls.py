from django.urls import path

from . import consent, views

app_name = "oauth"

urlpatterns = [
    path("oauth/token", views.token, name="token"),
    path("oauth/userinfo", views.userinfo, name="userinfo"),
    path("oauth/auth", consent.authorize, name="authorize"),
]
