"""The WSGI entry point serving the API and the console: ``gunicorn console.wsgi:app``."""

from console.site import create_site

app = create_site()
