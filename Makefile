# Everything runs from the project's own venv (.venv), created by `make setup`.
export PYO_GUI_WX := 0
export SDL_VIDEODRIVER ?= dummy
export SDL_AUDIODRIVER ?= dummy
PY := .venv/bin/python

.PHONY: setup demo test test-fast bench clean

setup:
	bash scripts/setup.sh

demo: setup
	$(PY) benchmarks/sae_accuracy.py --dataset digits --png out/sae_features.png

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) benchmarks/sae_accuracy.py --dataset digits

clean:
	rm -rf out .pytest_cache
