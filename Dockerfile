# One image for the web process and for GPU workers, installed from the same hash-checked lock as
# `make test`. torch comes first at its pinned version: the default (PyPI) build has CUDA; pass
# --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cpu for a CPU-only image.
FROM python:3.11-slim
ARG TORCH_INDEX=
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm make && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/loraface
COPY . .
RUN make install VENV=/opt/venv TORCH_INDEX=$TORCH_INDEX && rm -rf /root/.cache
ENV PATH=/opt/venv/bin:$PATH LORAFACE_DATA_DIR=/data
EXPOSE 8000
CMD ["loraface", "serve", "--host", "0.0.0.0", "--port", "8000"]
