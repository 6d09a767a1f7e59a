FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TOXISCOPE_VAR_DIR=/var/lib/toxiscope MPLCONFIGDIR=/tmp/matplotlib
# Point PIP_EXTRA_INDEX_URL at PyTorch's CPU wheel index to get the small CPU build of
# torch==2.13.0; without it pip takes the default (CUDA) build, which also runs on CPU.
ARG PIP_EXTRA_INDEX_URL=""
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system --home /app toxiscope && mkdir -p /var/lib/toxiscope && chown toxiscope /var/lib/toxiscope \
    && SECRET_KEY=build-only python manage.py collectstatic --no-input --verbosity 0 \
    && chown -R toxiscope /var/lib/toxiscope
# (The platform's processes create private files: collected by root, the static files must be
# handed to the user that serves them.)
USER toxiscope
EXPOSE 8000
CMD ["gunicorn", "toxiscope.wsgi", "-c", "python:toxiscope.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "3"]
