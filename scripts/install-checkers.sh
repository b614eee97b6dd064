#!/usr/bin/env bash
# Installs the type checkers the codegen tests run on generated code, from
# the package registries, into ~/.cache/rohas-tools (once; later runs reuse
# them): mypy (and openapi-spec-validator) in a virtual environment,
# TypeScript and the AsyncAPI parser with npm.
# Prints their paths as ROHAS_MYPY=…, ROHAS_TEST_PYTHON=… (a Python with
# mypy, `requests`, which a reference handler example imports, and
# hypothesis, for the property tests of the Python runtime's JSON writer),
# ROHAS_TSC=…, ROHAS_ASYNCAPI_MODULES=… (a node_modules folder holding
# @asyncapi/parser) and ROHAS_VITEST_MODULES=… (vitest, typescript and the
# Node types) lines.
# Also, in a virtual environment of its own, the official OpenTelemetry
# protobuf types with a real gRPC server, for the OTLP export tests'
# second receiver (ROHAS_OTLP_PYTHON=…), and Prometheus's own Python
# client, whose text parser the telemetry tests read `/metrics` with
# (ROHAS_PROMETHEUS_PYTHON=…, the same interpreter).
# And schemathesis, pinned in bench/attack/schemathesis.py, which installs
# it into $tools/schemathesis, for the OpenAPI conformance test
# (ROHAS_SCHEMATHESIS=…).
set -euo pipefail

tools="${ROHAS_TOOLS_DIR:-$HOME/.cache/rohas-tools}"
mkdir -p "$tools"

if [ ! -x "$tools/venv/bin/mypy" ] || [ ! -d "$tools/venv/lib/python3.11/site-packages/openapi_spec_validator" ]; then
  echo "installing mypy and openapi-spec-validator into $tools/venv" >&2
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check \
    "mypy==1.13.0" "requests==2.32.3" "types-requests==2.32.0.20241016" "openapi-spec-validator==0.7.1" >&2
fi

# Hypothesis, for the property tests of the Python runtime's JSON writer
# (they import it into the embedded interpreter from this environment).
if ! "$tools/venv/bin/python" -c "import hypothesis" 2>/dev/null; then
  echo "installing hypothesis into $tools/venv" >&2
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "hypothesis==6.170.27" >&2
fi

if [ ! -x "$tools/node/node_modules/.bin/tsc" ]; then
  echo "installing typescript into $tools/node" >&2
  mkdir -p "$tools/node"
  (cd "$tools/node" && npm init -y >/dev/null 2>&1 && npm install --silent --no-audit --no-fund "typescript@5.6.3" "@types/node@20" >&2)
fi

# vitest beside TypeScript and the Node types: a new TypeScript project
# ships a vitest test, which tsc checks and the CLI test runs (linking this
# node_modules into the project).
if [ ! -x "$tools/node/node_modules/.bin/vitest" ]; then
  echo "installing vitest into $tools/node" >&2
  (cd "$tools/node" && npm install --silent --no-audit --no-fund "vitest@2.1.9" >&2)
fi

if ! "$tools/otlp-venv/bin/python" -c "import grpc, opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc" 2>/dev/null; then
  echo "installing opentelemetry-proto and grpcio into $tools/otlp-venv" >&2
  python3 -m venv "$tools/otlp-venv"
  "$tools/otlp-venv/bin/pip" install --quiet --disable-pip-version-check \
    "opentelemetry-proto==1.45.2" "grpcio==1.85.1" >&2
fi

if ! "$tools/otlp-venv/bin/python" -c "import prometheus_client.parser" 2>/dev/null; then
  echo "installing prometheus-client into $tools/otlp-venv" >&2
  "$tools/otlp-venv/bin/pip" install --quiet --disable-pip-version-check "prometheus-client==0.26.0" >&2
fi

if [ ! -d "$tools/asyncapi/node_modules/@asyncapi/parser" ]; then
  echo "installing @asyncapi/parser into $tools/asyncapi" >&2
  mkdir -p "$tools/asyncapi"
  (cd "$tools/asyncapi" && npm init -y >/dev/null 2>&1 && npm install --silent --no-audit --no-fund "@asyncapi/parser@3.6.6" >&2)
fi

# The script keeps the pin and prints `ROHAS_SCHEMATHESIS=<st>`; it
# installs only when the venv lacks that version.
schemathesis=$(ROHAS_TOOLS_DIR="$tools" python3 "$(dirname "$0")/../bench/attack/schemathesis.py" --install-only)

echo "ROHAS_MYPY=$tools/venv/bin/mypy"
echo "ROHAS_TEST_PYTHON=$tools/venv/bin/python"
echo "ROHAS_TSC=$tools/node/node_modules/.bin/tsc"
echo "ROHAS_OTLP_PYTHON=$tools/otlp-venv/bin/python"
echo "ROHAS_PROMETHEUS_PYTHON=$tools/otlp-venv/bin/python"
echo "ROHAS_ASYNCAPI_MODULES=$tools/asyncapi/node_modules"
echo "ROHAS_VITEST_MODULES=$tools/node/node_modules"
echo "$schemathesis"
