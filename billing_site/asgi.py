import os

from django.core.asgi import get_asgi_application

from billing_site.startup import load_settings_for_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
# A configuration error stops the server with one clear line (billing_site/startup.py).
load_settings_for_server("billing_site.asgi")
application = get_asgi_application()
