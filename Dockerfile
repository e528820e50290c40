# The bot as a service: non-root, catalogs compiled, the database on a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BOT_DATABASE=/data/bot.sqlite3 \
    MPLBACKEND=Agg

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-cache-dir .

COPY locales ./locales
COPY knowledge ./knowledge
# Labelled citizens' questions: the help desk's model learns from them at the first start.
COPY benchmarks/helpdesk_dev.tsv benchmarks/helpdesk_round*.tsv ./benchmarks/
COPY vocabulary.toml ./vocabulary.toml
COPY config.toml ./
RUN pybabel compile -d locales -D messages \
    && useradd --create-home --uid 10001 bot \
    && mkdir -p /data && chown bot:bot /data

USER bot
# The help desk's model is fitted once here, so the first start does not wait for it (the weights
# land in the bot user's cache folder; a changed knowledge base is fitted again at start).
RUN python -c "from bot.helpdesk.service import knowledge; knowledge()"
VOLUME ["/data"]
# TELEGRAM_BOT_TOKEN comes from the environment (docker run -e / secrets), never the image.
CMD ["python", "-m", "bot", "run"]
