# The two commands of the README: `make run` and `make test`. Both create .venv when missing,
# install torch (CPU, from local disk) before anything that depends on it, then the project,
# and are quiet when everything is already installed.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# pip's local-mirror configuration prints one warning per missing folder; hide only those.
QUIET := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: run test install browser

$(BIN)/python:
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "安装依赖 (installing into $(VENV)) ..."
	@$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0 $(QUIET)
	@$(BIN)/pip install -q --disable-pip-version-check -e '.[test]' $(QUIET)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# The browser test drives Debian's chromium (never a downloaded browser); without a CJK font
# Chinese renders as boxes.
browser:
	@if ! command -v chromium >/dev/null || ! dpkg -s fonts-wqy-zenhei >/dev/null 2>&1; then \
	  echo "安装 chromium 与中文字体 (installing chromium, fonts-wqy-zenhei) ..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	fi

run: install
	@$(BIN)/rag models
	@$(BIN)/rag ingest
	$(BIN)/python app.py

test: install browser
	@$(BIN)/rag models
	$(BIN)/python -m pytest -q
