# Infra targets (CDK). Owned by the infra capability; included by the root Makefile.
#   make infra-setup   the pinned CDK CLI (package-lock.json) in node_modules, via npm ci; a no-op when up to date
#   make synth         build the Lambda layer (no Docker), then `cdk synth` into cdk.out/
.PHONY: infra-setup synth layer

# jsii (the bridge under aws-cdk-lib) warns loudly about Node 20; the warning is not actionable inside a test run.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# swagger-ui-dist (Swagger UI at /docs on the local stack) depends on @scarf/scarf: no install-time telemetry.
export SCARF_ANALYTICS := false

CDK := node_modules/.bin/cdk
LAYER_DIR := infra/build/layer
# Runtime dependencies the Lambda Python runtime already ships (boto3's stack). Shipping them in the layer would
# shadow the runtime's botocore with a different version than its boto3, so they are left out.
LAYER_RUNTIME_PROVIDED := botocore urllib3 python-dateutil six
LAYER_INPUTS := uv.lock pyproject.toml infra/infra.mk $(shell find dawra -type f -not -path 'dawra/local/*' -not -path '*/__pycache__/*' 2>/dev/null)

infra-setup: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The layer: [project] dependencies exactly as uv.lock pins them (hashes checked), as manylinux2014 aarch64 cp311
# wheels, installed into python/ with uv's pip interface (no Docker, nothing compiled), plus the dawra package
# itself without dawra/local (the embedded cloud is never deployed). Then its bytecode, compiled once here: /opt is
# read-only on Lambda, so a layer without .pyc files compiles every module it imports from source on every cold start
# (decision 101). The venv's Python is the runtime's 3.11 (bytecode is the same on arm64); unchecked-hash .pyc files
# stay valid whatever modification times the zip restores.
layer: $(LAYER_DIR)/.built

$(LAYER_DIR)/.built: $(LAYER_INPUTS) | setup
	rm -rf $(LAYER_DIR)
	mkdir -p $(LAYER_DIR)/python
	$(UV) export --frozen --no-dev --no-default-groups --no-emit-project --format requirements.txt --quiet \
		$(foreach p,$(LAYER_RUNTIME_PROVIDED),--no-emit-package $(p)) -o $(LAYER_DIR)/requirements.txt
	$(UV) pip install --quiet --target $(LAYER_DIR)/python --python-platform aarch64-manylinux2014 \
		--python-version 3.11 --only-binary :all: --no-deps --require-hashes -r $(LAYER_DIR)/requirements.txt
	rm -rf $(LAYER_DIR)/python/bin
	cp -R dawra $(LAYER_DIR)/python/dawra
	rm -rf $(LAYER_DIR)/python/dawra/local
	find $(LAYER_DIR)/python -name '__pycache__' -type d -prune -exec rm -rf {} +
	$(BIN)/python -m compileall -q -j 0 --invalidation-mode unchecked-hash $(LAYER_DIR)/python
	@touch $@

synth: setup infra-setup layer
	$(CDK) synth --quiet
	@echo "synth: wrote cdk.out/ ($$(ls cdk.out/*.template.json))"
