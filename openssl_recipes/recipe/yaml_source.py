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
    finally:
        loader.dispose()
    return data, lambda loc: _place_of(node, loc)


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


def _place_of(root: yaml.Node, loc: list[Any]) -> tuple[int, int] | None:
    """Where the value at `loc` starts (or the deepest part of `loc` that exists)."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)]
            if not found:
                break
            node = found[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
    return (node.start_mark.line + 1, node.start_mark.column + 1) if node is not root else None
