"""YAML text → plain data, plus a way back from a field path to its line.

Anchors and aliases are refused (they are how "billion laughs" documents blow up) and so are
duplicate keys (YAML would silently keep the last one). Syntax errors carry line and column.
"""

from __future__ import annotations

from typing import Any, Callable

import yaml

from ..core.errors import RecipeError

Locate = Callable[[list[Any]], "tuple[int, int] | None"]  # a field path → (line, column), from 1
MAX_DEPTH = 64
MAX_NUMBER_LENGTH = 64  # Python refuses ints over 4300 digits, and converting them is quadratic
_NUMBERS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


def parse(text: str, source: str) -> tuple[Any, Locate]:
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lambda loc: None
        _check_tree(node, source)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise RecipeError(f"{where}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise RecipeError(f"{source}: YAML error: {exc}") from None
    except RecursionError:
        raise RecipeError(f"{source}: the recipe is nested too deeply") from None
    except ValueError as exc:  # Python's own bound on the digits of a number (4300), and the like
        raise RecipeError(f"{source}: a value the recipe cannot hold: {exc}") from None
    finally:
        loader.dispose()
    keys: dict[int, dict[str, yaml.Node]] = {}  # each mapping's keys, indexed once: a lookup per problem
    return data, lambda loc: _place_of(node, loc, keys)


def _check_tree(root: yaml.Node, source: str) -> None:
    """Refuse aliases (a node reached twice), duplicate keys and absurd nesting; iterative."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        line = node.start_mark.line + 1
        if id(node) in seen:
            raise RecipeError(f"{source}:{line}: anchors and aliases (&name, *name) are not supported in a recipe")
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise RecipeError(f"{source}:{line}: the recipe is nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        raise RecipeError(
                            f"{source}:{key.start_mark.line + 1}:{key.start_mark.column + 1}: duplicate key {key.value!r}"
                        )
                    keys.add(key.value)
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif node.tag in _NUMBERS and len(node.value) > MAX_NUMBER_LENGTH:
            column = node.start_mark.column + 1
            raise RecipeError(
                f"{source}:{line}:{column}: a number of {len(node.value)} characters; no value of a recipe needs one"
            )


def _place_of(root: yaml.Node, loc: list[Any], keys: dict[int, dict[str, yaml.Node]]) -> tuple[int, int] | None:
    """Where the value at `loc` starts (or the deepest part of `loc` that exists)."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            if id(node) not in keys:
                keys[id(node)] = {k.value: v for k, v in reversed(node.value) if isinstance(k, yaml.ScalarNode)}
            found = keys[id(node)].get(str(part))
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
    return (node.start_mark.line + 1, node.start_mark.column + 1) if node is not root else None
