"""The format docs are generated from the registry; the committed file must be current."""

from simulations import docgen


def test_scenario_format_doc_matches_the_registry():
    text = docgen.DOC.read_text(encoding="utf-8")
    assert docgen.updated(text) == text, "run: python -m simulations.docgen"


def test_every_kind_and_parameter_is_documented():
    text = docgen.DOC.read_text(encoding="utf-8")
    for kind in docgen.KINDS.values():
        assert f"### `{kind.name}`" in text
        for param in kind.params:
            assert f"| `{param.name}` |" in text
