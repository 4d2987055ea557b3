"""A static cost per document, computed before anything runs.

Each field costs 1 plus the cost of its selection; a field with a ``first``
argument multiplies its selection by ``first`` (a page of that many rows), one
with ``radius`` by ``2 * radius + 1``; aliases count as the fields they are. Both
members of a union are counted (the cost is an upper bound). Arguments come from
the document, its variables, or the schema's defaults, and never count for more
than the largest page a list serves (``LAUREL_MAX_PAGE_SIZE``): a larger ``first``
is refused by the field itself, with a clearer error. A list without a size
argument counts once: every such list is bounded by the catalog (badges, tiers,
contests), not by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_operation_ast,
    value_from_ast,
)
from graphql.execution.values import get_variable_values
from graphql.language import DocumentNode
from strawberry.extensions import SchemaExtension

from server.i18n import render
from server.rewards.text import msg

__all__ = ["QueryCost", "document_cost"]

_Fields = GraphQLObjectType | GraphQLInterfaceType
# Arguments that size a field's selection: (name, k) for k * value + k - 1 rows
# (first: first rows; radius: 2 * radius + 1 rows).
_SIZES = (("first", 1), ("radius", 2))


def _size(field: GraphQLField, node: FieldNode, variables: Mapping[str, Any], most: int) -> int:
    """How many times the field's selection may be resolved."""
    given = {a.name.value: a.value for a in node.arguments or ()}
    for name, spread in _SIZES:
        arg = field.args.get(name)
        if arg is None:
            continue
        value = arg.default_value
        if name in given:  # a variable not given (or not valid) leaves the default
            found = value_from_ast(given[name], arg.type, dict(variables))
            value = value if found is Undefined else found
        if not isinstance(value, int) or value < 1:
            return 1
        return spread * min(value, most) + spread - 1
    return 1


class _Costing:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        most: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.most = most

    def selection(self, parent: Any, selections: SelectionSetNode | None) -> int:
        if selections is None:
            return 0
        return sum(self._part(parent, s) for s in selections.selections)

    def _part(self, parent: Any, node: Any) -> int:
        if isinstance(node, FieldNode):
            return self._field(parent, node)
        if isinstance(node, InlineFragmentNode):
            return self.selection(self._condition(parent, node), node.selection_set)
        if isinstance(node, FragmentSpreadNode):
            found = self.fragments.get(node.name.value)
            return (
                0
                if found is None
                else self.selection(self._condition(parent, found), found.selection_set)
            )
        return 0

    def _condition(self, parent: Any, node: InlineFragmentNode | FragmentDefinitionNode) -> Any:
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value) or parent

    def _field(self, parent: Any, node: FieldNode) -> int:
        if not isinstance(parent, _Fields):
            return 1
        field = parent.fields.get(node.name.value)
        if field is None:  # __typename, or an unknown field validation reports
            return 1
        inner = self.selection(get_named_type(field.type), node.selection_set)
        return 1 + _size(field, node, self.variables, self.most) * inner


def document_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    *,
    max_page_size: int = 100,
) -> int:
    """The cost of the operation that would run (the only one, or the one named)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    # Coerced as execution will coerce them: defaults filled in, 100.0 taken as 100.
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    # Variables that do not coerce are refused by execution; cost them as absent.
    given: dict[str, Any] = {} if isinstance(coerced, list) else dict(coerced.coerced)
    costing = _Costing(schema, fragments, given, max_page_size)
    return costing.selection(schema.get_root_type(operation.operation), operation.selection_set)


class QueryCost(SchemaExtension):
    """Refuse a document whose cost is over ``limit`` before it runs.

    Runs in the validation step, after the validation cache has validated the
    document (it must come after ``ValidationCache`` in the extension list), so
    a refused document runs nothing, subscriptions included.
    """

    def __init__(self, *, limit: int, max_page_size: int) -> None:
        self.limit = limit
        self.max_page_size = max_page_size

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if not context.pre_execution_errors and document is not None:
            cost = document_cost(
                context.schema._schema,
                document,
                context.operation_name,
                context.variables,
                max_page_size=self.max_page_size,
            )
            if cost > self.limit:
                context.pre_execution_errors = [
                    GraphQLError(
                        render(
                            msg(
                                "This query costs {cost:,}; at most {most:,} is allowed. "
                                "Ask for fewer rows (first, radius) or fewer fields.",
                                cost=cost,
                                most=self.limit,
                            )
                        ),
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": self.limit},
                    )
                ]
        yield
