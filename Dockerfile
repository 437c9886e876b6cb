# syntax=docker/dockerfile:1
# Build stage: compiles the native SQLite driver and the UI.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

# Runtime stage: no compiler, runs as a non-root user that owns /var/data.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8000
# bubblewrap confines the agent's shell where the container may create user namespaces (BERTH_SANDBOX=auto).
# The rest is what the agent's shell computes with (the sandbox shows /usr read-only): python3 with pandas,
# openpyxl, pdfminer and python-docx; poppler-utils (pdftotext); ffmpeg; exiftool. get_text_from_local_file
# reads old .xls workbooks through python3-xlrd. chromium is the browser the browser_* tools drive
# (BERTH_BROWSER_PATH=/usr/bin/chromium).
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap chromium \
    python3 python3-pandas python3-openpyxl python3-pdfminer python3-docx python3-xlrd poppler-utils ffmpeg libimage-exiftool-perl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system berth \
 && useradd --system --gid berth --home-dir /var/data --shell /bin/bash berth \
 && mkdir -p /var/data \
 && chown berth:berth /var/data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER berth
# Mount a named volume here (docker run -v berth-data:/var/data ...): berth finds it by itself.
VOLUME /var/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/cli/main.js", "serve"]
