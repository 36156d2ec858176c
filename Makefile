# Everything runs from the project's own venv (.venv), created by `make setup`.
export PYO_GUI_WX := 0
export SDL_VIDEODRIVER ?= dummy
export SDL_AUDIODRIVER ?= dummy
PY := .venv/bin/python

.PHONY: setup demo test test-fast lint bench clean

setup:
	bash scripts/setup.sh

# The main job: train an instrument from scratch on the demo recording (into out/, the shipped
# models/default is left alone), render the recording through it, draw the report.
demo: setup
	@mkdir -p out
	$(PY) -m instrument train --gestures recordings/demo.jsonl --out out/demo-model --report out/report.png --force
	$(PY) -m instrument render --model out/demo-model --gestures recordings/demo.jsonl --out out/demo.wav --controls out/demo_controls.csv --force
	@echo ""
	@echo "model:          out/demo-model/  (the shipped one is models/default/)"
	@echo "audio:          out/demo.wav"
	@echo "control stream: out/demo_controls.csv"
	@echo "report:         out/report.png"

test: setup
	$(PY) -m pytest -q

lint: setup
	.venv/bin/ruff check .

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

# Every benchmark, each printing its table (speed targets live here, not in unit tests).
bench: setup
	$(PY) benchmarks/sae_accuracy.py --dataset digits
	$(PY) benchmarks/matching.py
	$(PY) benchmarks/sound.py
	$(PY) benchmarks/gestures_speed.py
	$(PY) benchmarks/stream_speed.py
	$(PY) benchmarks/train.py
	$(PY) benchmarks/latency.py
	$(PY) benchmarks/scaling.py

clean:
	rm -rf out .pytest_cache
