# Shortcuts for the scripts in scripts/ (they are the real entry points).
.PHONY: run test cluster engine

run:  ## serve the playground (embedded: SQLite, in-process runs)
	./scripts/run

test:  ## ruff, then every test
	./scripts/test

cluster:  ## Redis, 2 Daphne processes and 2 simworkers, as in docs/deploy.md
	./scripts/cluster

engine:  ## compile the engine's hot modules with mypyc (run and test do it when needed)
	./scripts/build-engine
