"""Every GraphQL document the app sends is valid against the committed schema, so API drift fails here.

A document may use fragments defined in another ``*.graphql`` file of the folder (a fragment-only
file); they are validated together with each operation that spreads them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    Visitor,
    build_schema,
    parse,
    validate,
    visit,
)

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "mobile" / "api" / "operations"
DOCUMENTS = sorted(OPERATIONS.glob("*.graphql"))
SCHEMA = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))


def _parse(path: Path) -> DocumentNode:
    try:
        return parse(path.read_text(encoding="utf-8"))
    except GraphQLSyntaxError as error:
        pytest.fail(f"{path.name}: {error}")


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _spreads(node) -> set[str]:
    names: set[str] = set()

    class Collect(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_):
            names.add(spread.name.value)

    visit(node, Collect())
    return names


def _all_fragments() -> dict[str, FragmentDefinitionNode]:
    found: dict[str, FragmentDefinitionNode] = {}
    for path in DOCUMENTS:
        for name, fragment in _fragments(_parse(path)).items():
            assert name not in found, f"fragment {name} is defined twice"
            found[name] = fragment
    return found


def _with_used_fragments(document: DocumentNode, shared: dict[str, FragmentDefinitionNode]) -> DocumentNode:
    """The document plus the fragments of other files it spreads, transitively."""
    own = _fragments(document)
    wanted, added = _spreads(document) - set(own), []
    while wanted:
        name = wanted.pop()
        if name in shared and name not in own and shared[name] not in added:
            added.append(shared[name])
            wanted |= _spreads(shared[name]) - set(own)
    return DocumentNode(definitions=(*document.definitions, *added))


def test_the_operations_folder_holds_documents():
    assert OPERATIONS.is_dir(), f"{OPERATIONS} is missing"
    assert DOCUMENTS, f"no *.graphql document in {OPERATIONS}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_document_parses_and_validates_against_the_schema(path: Path):
    document = _parse(path)
    if not _operations(document):  # a fragment-only file: checked with the operations that use it
        used = set().union(*(_spreads(_parse(p)) for p in DOCUMENTS))
        unused = set(_fragments(document)) - used
        assert not unused, f"{path.name}: fragments no operation uses: {sorted(unused)}"
        return
    errors = validate(SCHEMA, _with_used_fragments(document, _all_fragments()))
    assert not errors, f"{path.name}: " + "; ".join(e.message for e in errors)


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_operations_are_named(path: Path):
    """The client looks operations up by name; an anonymous one could not be found (or logged)."""
    assert all(op.name is not None for op in _operations(_parse(path))), f"{path.name} has an anonymous operation"


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_a_document_holds_one_operation_named_as_its_file(path: Path):
    """The client loads ``operations/<Name>.graphql`` for the operation ``Name``."""
    operations = _operations(_parse(path))
    if operations:
        assert [op.name.value if op.name else None for op in operations] == [path.stem]


def test_operation_names_are_unique_across_documents():
    seen: dict[str, str] = {}
    for path in DOCUMENTS:
        for operation in _operations(_parse(path)):
            name = operation.name.value if operation.name else ""
            assert name not in seen, f"operation {name} is in both {seen[name]} and {path.name}"
            seen[name] = path.name


def test_a_drifted_document_is_caught():
    """The check itself works: a field the schema lacks is reported."""
    drifted = parse("query Drift { ledgerCheckpoint { ... on LedgerCheckpoint { treeSize signature } } }")
    assert [e.message for e in validate(SCHEMA, drifted)] == [
        "Cannot query field 'signature' on type 'LedgerCheckpoint'."]


def test_fragments_from_other_files_are_resolved_and_checked():
    operation = parse("query Uses { ledgerCheckpoint { ...Head } }")
    shared = _fragments(parse("fragment Head on CheckpointResult { ...Size }\n"
                              "fragment Size on LedgerCheckpoint { treeSize }\n"
                              "fragment Unrelated on LedgerCheckpoint { note }"))
    merged = _with_used_fragments(operation, shared)
    assert sorted(_fragments(merged)) == ["Head", "Size"]
    assert validate(SCHEMA, merged) == []
    assert validate(SCHEMA, operation)  # alone: unknown fragment
    wrong = _fragments(parse("fragment Head on CheckpointResult { ... on LedgerCheckpoint { size } }"))
    assert validate(SCHEMA, _with_used_fragments(operation, wrong))  # a drifted shared fragment fails
