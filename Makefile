PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

BENCH_STAMP := $(VENV)/.bench-installed
# The cluster's Redis client and scrapy-redis, installed after govarchive: pywb 2.10 pins
# redis==2.10.6 and fakeredis<1 (2018), which pip would refuse beside them; pywb's replay runs,
# and is tested, with these (README, "A cluster").
CLUSTER_PKGS := scrapy-redis==0.9.1 "redis>=5,<9" "fakeredis>=2.20,<3"

.PHONY: venv demo test lint clean bench bench-extract bench-search bench-crawl bench-repair bench-cluster bench-revisit soak

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet $(CLUSTER_PKGS)
	touch $(STAMP)

demo: venv
	$(BIN)/govarchive demo --data demo-data

test: venv
	$(BIN)/ruff check crawler archive pipelines tests bench
	$(BIN)/python -m pytest -q

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m pip install --quiet $(CLUSTER_PKGS)  # pip put pywb's redis==2.10.6 back
	touch $(BENCH_STAMP)

bench-extract: $(BENCH_STAMP)
	$(BIN)/python bench/extract_eval.py

bench-search: $(BENCH_STAMP)
	$(BIN)/python bench/search.py

bench-crawl: $(BENCH_STAMP)
	$(BIN)/python bench/crawl.py

bench-repair: $(BENCH_STAMP)
	$(BIN)/python bench/repair.py

bench-cluster: $(BENCH_STAMP)
	$(BIN)/python bench/cluster.py

bench-revisit: $(BENCH_STAMP)
	$(BIN)/python bench/revisit.py

bench: bench-extract bench-search bench-crawl bench-repair bench-cluster bench-revisit

# The history against the evolving-site oracle: 50 seeds x 8 editions (about 20 minutes on 2 cores).
soak: venv
	$(BIN)/python bench/soak.py --seeds 50 --editions 8

lint: venv
	$(BIN)/ruff check crawler archive pipelines tests bench

clean:
	rm -rf $(VENV) demo-data archive-data
