# One image for the web process and for GPU workers.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm make && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/loraface
COPY . .
RUN pip install --no-cache-dir -e '.[ml]' \
 && npm install --no-audit --no-fund && mkdir -p static/vendor \
 && cp node_modules/htmx.org/dist/htmx.min.js static/vendor/
ENV LORAFACE_DATA_DIR=/data
EXPOSE 8000
CMD ["loraface", "serve", "--host", "0.0.0.0", "--port", "8000"]
