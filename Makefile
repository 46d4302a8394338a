# make demo: set up .venv and solve the Lorenz system.   make test: set up .venv and run the tests.
# make readme: run every command of the README in a fresh clone.   make test-all: the slow tests too.
# The tests run at a slightly lower CPU priority (nice 3), so work beside them keeps most of the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all readme install clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) scripts/install.py $(VENV)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/pinn solve lorenz --epochs 5000

test: $(STAMP)
	OMP_NUM_THREADS=1 nice -n 3 $(BIN)/python -m pytest -q -n 2 --dist worksteal

test-all: $(STAMP)
	OMP_NUM_THREADS=1 nice -n 3 $(BIN)/python -m pytest -q -n 2 --dist worksteal -m ''

readme:
	$(PYTHON) scripts/run_readme.py

clean:
	rm -rf $(VENV) runs .pytest_cache
