import os

from django.core.wsgi import get_wsgi_application

from billing_site.startup import load_settings_for_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
# A configuration error stops the server with one clear line (billing_site/startup.py).
load_settings_for_server("billing_site.wsgi")
application = get_wsgi_application()
