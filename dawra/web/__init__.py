"""Server-rendered pages: the operators' console (dawra/web/console.py), its templates, static files and the words
it speaks in English and Arabic. Pure Python (Jinja2, Babel): no AWS library, no web framework; the Lambda entry
point (functions/backoffice/console.py) hands it requests and returns its responses."""
