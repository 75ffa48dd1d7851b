# One image for web (gunicorn), worker and beat (celery); docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DEXWEB_VAR_DIR=/app/var

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. Editable, so `dexweb` and `apps`
# import from /app, next to templates/ and static/ (settings find those beside the code).
COPY pyproject.toml README.md ./
COPY dexweb/__init__.py dexweb/__init__.py
COPY apps/__init__.py apps/__init__.py
RUN pip install -e .

COPY manage.py ./
COPY dexweb dexweb
COPY apps apps
COPY templates templates
COPY static static

# Hashed static files are built into the image; WhiteNoise serves them. Production settings
# cannot load here (no secrets at build time), so ask for the manifest storage explicitly.
RUN STATIC_MANIFEST=true python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app dexweb && chown -R dexweb /app/var
USER dexweb

EXPOSE 8000
CMD ["gunicorn", "dexweb.wsgi:application", "--bind", "0.0.0.0:8000", "--no-control-socket"]
