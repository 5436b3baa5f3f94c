# The two commands of the README: `make demo` and `make test`. Both install what they need.
.PHONY: demo test setup lint bench clean reference

PYTEST_ARGS ?=

setup:
	@bash .ci/bootstrap

demo: setup
	@.venv/bin/gt demo $(DEMO_ARGS)

test: setup
	@.venv/bin/ruff check gastown_tui tests bench
	@.venv/bin/lint-imports --config pyproject.toml
	@bash .ci/agents
	@.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile $(PYTEST_ARGS)
	@bash .ci/beads_mcp

lint: setup
	@.venv/bin/ruff check gastown_tui tests bench
	@.venv/bin/lint-imports --config pyproject.toml

bench: setup
	@for b in bench/*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

clean:
	rm -rf .venv .pytest_cache build *.egg-info

# Regenerate the README's command reference from the live argparse tree.
reference: setup
	@.venv/bin/python -m gastown_tui.cli.reference --update README.md
