# certrole: build, test, demo and benchmark targets.
# Deno 2.9.6 is taken from PATH when that is the version there; otherwise it is installed from
# the npm registry into .tools/ (git-ignored) on first use. Only node and npm are needed.

DENO_VERSION := 2.9.6
TOOLS := $(CURDIR)/.tools
PATH_DENO := $(shell command -v deno 2>/dev/null)
ifneq ($(PATH_DENO),)
ifneq ($(findstring deno $(DENO_VERSION) ,$(shell deno --version 2>/dev/null | head -n 1) ),)
DENO := $(PATH_DENO)
endif
endif
DENO ?= $(TOOLS)/deno
export NO_COLOR := 1
# make install: ~/.local, or /usr/local as root; DESTDIR stages the files for a package.
PREFIX ?= $(if $(filter 0,$(shell id -u)),/usr/local,$(HOME)/.local)

.PHONY: all build install uninstall demo test test-images test-deploy simulate-fleet images images-offline lint check check-fmt check-lint check-types check-images fmt bench fuzz clean deps help peers-test peers-lint peers-images peers-deploy

all: build

help:
	@echo "make demo    run the IAM Roles Anywhere walkthrough locally, on the built-in emulator"
	@echo "             KEY_TYPE=ml-dsa-65 (or any pki --key-type) for the CA and certificates"
	@echo "make test    run the test suite (openssl, AWS CLI, boto3 as real peers)"
	@echo "make check   formatting, lint and type checks"
	@echo "make build   dist/certrole: launcher + bundled program"
	@echo "make install PREFIX/bin/certrole, PREFIX/lib/certrole (PREFIX=$(PREFIX)); make uninstall"
	@echo "make bench   credential-process, exec and emulator timings"
	@echo "make simulate-fleet  N pods refreshing like serve against the emulator's CreateSession quota (ARGS=...)"
	@echo "make fuzz    mutated keys and certificates through the identity loaders (SEED=1 ITERATIONS=10000)"
	@echo "make images  render images/*/Dockerfile and build the images (docker, else podman, else buildah)"
	@echo "             ENGINE=podman ARGS='--variant aws-cli --base aws-cli=IMAGE ...' (ARGS=--help: options)"
	@echo "make images-offline  the same without a registry: podman, local Debian bases (debootstrap), host CA"
	@echo "make lint    Dockerfiles (hadolint when installed, dockerfile-utils) and shell scripts (shellcheck)"
	@echo "make test-images  build the images on local Debian bases with podman and run them on the emulator"
	@echo "make test-deploy  play deploy/'s Kubernetes manifests (podman kube play) and Compose file on the emulator"

$(TOOLS)/deno:
	@echo "Installing Deno $(DENO_VERSION) from the npm registry into $(TOOLS)"
	@mkdir -p $(TOOLS)
	@cd $(TOOLS) && npm install --no-save --no-audit --no-fund --loglevel=error deno@$(DENO_VERSION) >/dev/null
	@ln -sf "$$(ls -d $(TOOLS)/node_modules/@deno/*/deno | head -n 1)" $@
	@$@ --version | head -n 1

# Fetches the npm packages deno.lock pins (once; later runs work offline).
deps: $(DENO)
	@$(DENO) install --frozen --quiet

build: deps
	@$(DENO) run --allow-all scripts/build.ts

# Installed files name PREFIX paths only: the clone can be moved or removed afterwards.
install: deps
	@$(DENO) run --allow-all scripts/build.ts --prefix "$(PREFIX)" $(if $(DESTDIR),--destdir "$(DESTDIR)")
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "$(PREFIX)/bin is not on PATH: export PATH=\"$(PREFIX)/bin:\$$PATH\"" ;; esac

uninstall:
	@launcher="$(DESTDIR)$(PREFIX)/bin/certrole"; \
	if [ -e "$$launcher" ] && ! grep -q "^# certrole launcher" "$$launcher"; then \
	  echo "$$launcher is not certrole's launcher: left in place" >&2; exit 1; fi; \
	rm -f "$$launcher" && rm -rf "$(DESTDIR)$(PREFIX)/lib/certrole" && echo "removed $$launcher and $(DESTDIR)$(PREFIX)/lib/certrole"

# make demo KEY_TYPE=ml-dsa-65: the walkthrough with post-quantum (or any pki --key-type) keys.
demo: deps
	@$(DENO) run --allow-all scripts/demo.ts $(if $(KEY_TYPE),--key-type $(KEY_TYPE))

# The tests' real peers (openssl, the AWS CLI, boto3, jq; podman and friends for the images),
# installed with apt-get when root, else one line naming the command: before anything runs.
peers-test peers-lint peers-images peers-deploy:
	@sh scripts/test_peers.sh $(@:peers-%=%)

test: peers-test deps
	@$(DENO) test --allow-all --parallel tests/

# The image tests: podman + debootstrap, several minutes cold; their own target and CI step.
IMAGE_TESTS := tests/image_aws_cli.test.ts tests/image_sdk_apps.test.ts tests/image_stop_signal.test.ts \
	tests/image_docker_cli.test.ts tests/image_ca_certificates.test.ts tests/image_startup.test.ts \
	tests/image_user_base.test.ts tests/image_build_failure.test.ts tests/image_offline_build.test.ts \
	tests/image_supervise.test.ts
test-images: peers-test peers-images deps
	@CERTROLE_IMAGE_TESTS=1 $(DENO) test --allow-all $(IMAGE_TESTS)

# The deployment tests: deploy/'s manifests played with podman kube play and docker-compose (against
# podman's service) on the emulator. Needs what test-images needs plus catatonit and docker-compose.
# CERTROLE_DEPLOY_RUN_DIR: this run's own directory, where the test files share the images they built.
DEPLOY_TESTS := tests/deploy_native_sidecar.test.ts tests/deploy_classic_sidecar.test.ts \
	tests/deploy_single_container.test.ts tests/deploy_certificate_rotation.test.ts \
	tests/deploy_refused_certificates.test.ts tests/deploy_throttled_start.test.ts tests/deploy_pod_stop.test.ts \
	tests/deploy_compose.test.ts
test-deploy: peers-test peers-deploy deps
	@run_dir="$$(mktemp -d -t certrole-deploy-run.XXXXXX)" || exit 1; \
	  CERTROLE_DEPLOY_TESTS=1 CERTROLE_DEPLOY_RUN_DIR="$$run_dir" $(DENO) test --allow-all $(DEPLOY_TESTS); \
	  status=$$?; rm -rf "$$run_dir"; exit $$status

images: deps
	@$(DENO) run --allow-all scripts/images.ts $(ARGS)

# Without a container registry (our machines, air-gapped sites): see README.md, "Building them".
images-offline: peers-images deps
	@$(DENO) run --allow-all scripts/images.ts --local-bases $(ARGS)

lint: peers-lint deps
	@$(DENO) run --allow-all scripts/lint.ts

check: check-fmt check-lint check-types check-images

check-fmt: deps
	@$(DENO) fmt --check

check-lint: deps
	@$(DENO) lint

check-images: deps
	@$(DENO) run --allow-all cli/main.ts image render --check

# --doc: every JSDoc @example type-checks too, against the module it documents.
check-types: deps
	@$(DENO) check --doc cli/ tests/ scripts/

fmt: deps
	@$(DENO) fmt

bench: deps
	@$(DENO) run --allow-all scripts/bench.ts

# make fuzz SEED=7 ITERATIONS=50000: findings (non-CertroleErrors, slow inputs) land in .scratch/fuzz/.
SEED ?= 1
ITERATIONS ?= 10000
fuzz: deps
	@$(DENO) run --allow-all scripts/fuzz.ts --seed $(SEED) --iterations $(ITERATIONS)

# A fleet refreshing against AWS's CreateSession quota (deploy/SCALING.md):
# make simulate-fleet ARGS="--identities 1000 --throttle 10 --lifetime 600 --duration 600"
simulate-fleet: deps
	@$(DENO) run --allow-all scripts/fleet_simulation.ts $(ARGS)

clean:
	rm -rf dist .scratch
