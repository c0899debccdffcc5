# A newcomer's two commands: `make demo` and `make test`. Both install first; all targets are idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed

# llama-cpp-python compiles llama.cpp. Its -march=native build enables the AMX kernels on CPUs that
# advertise AMX, and those crash (SIGSEGV in ggml_backend_amx_mul_mat) on the VMs we build on, so we
# build a portable x86-64-v3 (AVX2/FMA) wheel once and keep it outside the checkout for every clone.
LLAMA_VERSION := 0.3.36
ARCH := $(shell uname -m)
ifeq ($(ARCH),x86_64)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
LLAMA_FLAVOUR := x86-64-v3
else
LLAMA_CMAKE_ARGS :=
LLAMA_FLAVOUR := native-$(ARCH)
endif
WHEELHOUSE := $(HOME)/.cache/mediagen/wheels/llama-cpp-python-$(LLAMA_VERSION)-$(LLAMA_FLAVOUR)
LLAMA_WHEEL = $(firstword $(wildcard $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_VERSION)-*.whl))

.PHONY: install browser demo test bench gallery screenshot lint clean

# The package's modules compiled once: where PYTHONDONTWRITEBYTECODE is set (CI images often do), every
# command would compile them from source again (about 0.07 s of each `mediagen` run here).
install: $(STAMP)
	@$(PY) -m compileall -q mediagen >/dev/null

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	test -n "$(LLAMA_WHEEL)" || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel -q --no-deps --no-cache-dir \
		-w $(WHEELHOUSE) llama-cpp-python==$(LLAMA_VERSION)
	$(PIP) install -q "$$(ls $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_VERSION)-*.whl)[server]"
	$(PIP) install -q -e '.[dev]'
	$(VENV)/bin/mediagen doctor --prepare
	touch $(STAMP)

# Built from samples/, so samples/mediagen.toml applies: the project's own jingle and music bed.
demo: install
	cd samples && ../$(VENV)/bin/mediagen build issue-en.md --out ../out/issue-en
	cd samples && ../$(VENV)/bin/mediagen build issue-ja.md --out ../out/issue-ja

# The preview's browser test (tests/test_preview.py) drives Debian's chromium through chromium-driver
# with Selenium: installed from apt when missing (as root, else through sudo).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: install browser
	$(VENV)/bin/ruff check mediagen tests bench docs
	$(VENV)/bin/pytest

# The moviepy baseline gets its own environment: moviepy pins an older Pillow than mediagen uses.
gallery: install
	$(PY) docs/make_gallery.py

screenshot: install browser
	$(PY) docs/make_screenshot.py

bench: install
	test -x bench/.venv-moviepy/bin/python || $(PYTHON) -m venv bench/.venv-moviepy
	bench/.venv-moviepy/bin/python -m pip install -q --disable-pip-version-check 'moviepy>=2,<3'
	$(PY) bench/run.py
	$(PY) bench/script.py

clean:
	rm -rf out build dist *.egg-info .pytest_cache .ruff_cache
