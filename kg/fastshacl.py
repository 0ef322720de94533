"""A direct evaluator of the core-SHACL subset the guji shapes use, over pyoxigraph triples.

pyshacl over rdflib costs ~40 ms per book of a submission package (80 % of a package's
validation). The guji shapes use a small part of SHACL core: class/targetNode/subjectsOf/
objectsOf targets; predicate and sequence paths; minCount, maxCount, class, datatype, nodeKind,
in, node, or, not, hasValue, pattern (+flags), minInclusive, maxInclusive, minExclusive,
maxExclusive, lessThanOrEquals, qualifiedValueShape with qualifiedMinCount/MaxCount. This module
evaluates exactly those, on an index of the triples built once, and gives results with the same
focus node, path, value, severity, source shape, constraint component and messages (sh:message
when the shape has one) as pyshacl; tests/unit/kg/test_fastshacl.py compares both on real and
randomly broken package graphs. A shape using anything else makes :func:`compile_shapes` refuse
(``UnsupportedShapes``) and callers fall back to pyshacl.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Iterable

import pyoxigraph as ox

SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDF_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
RDF_REST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
XSD = "http://www.w3.org/2001/XMLSchema#"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_KNOWN = {SH + p for p in (
    "path", "minCount", "maxCount", "class", "datatype", "nodeKind", "in", "node", "or", "not", "hasValue", "pattern",
    "flags", "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "lessThanOrEquals", "qualifiedValueShape",
    "qualifiedMinCount", "qualifiedMaxCount", "severity", "message", "property", "targetClass", "targetNode",
    "targetSubjectsOf", "targetObjectsOf", "deactivated", "name", "description", "order", "group")}


class UnsupportedShapes(Exception):
    """The shapes use a SHACL feature this evaluator does not implement."""


@dataclass
class Shape:
    node: object  # the shape's own term (for sh:sourceShape)
    path: tuple[str, ...] | None = None  # predicate IRIs of a predicate or sequence path
    severity: str = "Violation"
    messages: tuple[tuple[str, str], ...] = ()
    targets: list[tuple[str, str]] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=dict)
    properties: list["Shape"] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    severity: str  # "Violation" | "Warning" | "Info"
    focus_node: object  # pyoxigraph term
    path: str | None  # the predicate IRI of a predicate path, else None
    value: object | None
    source_shape: object
    constraint: str  # e.g. "MinCountConstraintComponent"
    messages: tuple[tuple[str, str], ...]
    message: str

    def message_in(self, language: str) -> str:
        return next((text for lang, text in self.messages if lang == language), self.message)


# -- compiling the shapes graph (rdflib) -------------------------------------------------------------

def _list(g, node) -> list:
    from rdflib import URIRef

    out = []
    while node is not None and node != URIRef(RDF_NIL):
        out.append(g.value(node, URIRef(RDF_FIRST)))
        node = g.value(node, URIRef(RDF_REST))
    return out


def _term(t) -> object:
    """rdflib term → pyoxigraph term (for comparing with data)."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(t, URIRef):
        return ox.NamedNode(str(t))
    if isinstance(t, BNode):
        return ("shape-bnode", str(t))
    if isinstance(t, Literal):
        if t.language:
            return ox.Literal(str(t), language=t.language)
        return ox.Literal(str(t), datatype=ox.NamedNode(str(t.datatype or XSD + "string")))
    raise UnsupportedShapes(f"unexpected term {t!r}")


def compile_shapes(g) -> list[Shape]:
    """The top-level (targeted) shapes of an rdflib shapes graph."""
    from rdflib import BNode, Literal, URIRef

    cache: dict = {}

    def shape(node) -> Shape:
        if node in cache:
            return cache[node]
        s = Shape(_term(node))
        cache[node] = s
        for p, o in g.predicate_objects(node):
            p = str(p)
            if not p.startswith(SH):
                continue
            if p not in _KNOWN:
                raise UnsupportedShapes(f"{node} uses {p}")
            name = p[len(SH):]
            if name == "path":
                if isinstance(o, URIRef):
                    s.path = (str(o),)
                elif (o, URIRef(RDF_FIRST), None) in g:
                    items = _list(g, o)
                    if not all(isinstance(i, URIRef) for i in items):
                        raise UnsupportedShapes(f"{node}: only predicate and sequence paths")
                    s.path = tuple(str(i) for i in items)
                else:
                    raise UnsupportedShapes(f"{node}: only predicate and sequence paths")
            elif name == "severity":
                s.severity = str(o).rsplit("#", 1)[-1]
            elif name == "message":
                s.messages += ((o.language or "", str(o)),) if isinstance(o, Literal) else ()
            elif name in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf"):
                s.targets.append((name, _term(o)))
            elif name == "property":
                s.properties.append(shape(o))
            elif name in ("node", "not", "qualifiedValueShape"):
                s.params[name] = shape(o)
            elif name == "or":
                s.params[name] = [shape(x) for x in _list(g, o)]
            elif name == "in":
                s.params[name] = {_term(x) for x in _list(g, o)}
            elif name in ("minCount", "maxCount", "qualifiedMinCount", "qualifiedMaxCount"):
                s.params[name] = int(o)
            elif name in ("class", "datatype", "nodeKind", "lessThanOrEquals"):
                s.params[name] = str(o)
            elif name in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
                s.params[name] = _number(_term(o))
            elif name in ("pattern", "flags", "hasValue"):
                s.params[name] = str(o) if name != "hasValue" else _term(o)
            elif name == "deactivated":
                s.params[name] = bool(o.toPython()) if isinstance(o, Literal) else False
        s.messages = tuple(sorted(s.messages, key=lambda lm: (lm[0] != "en", lm[0])))
        if "pattern" in s.params:
            flags = re.IGNORECASE if "i" in str(s.params.get("flags", "")) else 0
            s.params["regex"] = re.compile(str(s.params["pattern"]), flags)
        return s

    top = []
    for node in set(g.subjects()):
        if isinstance(node, (URIRef, BNode)) and any(str(p).startswith(SH + "target") for p in g.predicates(node)):
            sh = shape(node)
            if not sh.params.get("deactivated"):
                top.append(sh)
    return top


@lru_cache(maxsize=4)
def _shapes_for(stamp) -> list[Shape]:
    from kg.ontology import _cached

    return compile_shapes(_cached("shapes", stamp))


def guji_shapes() -> list[Shape]:
    from kg.ontology import _stamp, shape_files

    return _shapes_for(_stamp(shape_files()))


# -- data ---------------------------------------------------------------------------------------------

class Data:
    """The triples indexed by subject and predicate (and typed nodes by class). ``wanted``: the
    predicates whose subjects and objects are targets (``targetSubjectsOf``/``targetObjectsOf``);
    None indexes every predicate."""

    def __init__(self, triples: Iterable[ox.Triple], wanted: set[str] | None = None) -> None:
        out: dict = {}
        by_type: dict = defaultdict(list)
        subjects_of: dict = defaultdict(list)
        objects_of: dict = defaultdict(list)
        names: dict = {}  # predicate term -> its IRI (a term's .value is a new string each time)
        for t in dict.fromkeys(triples):  # each triple once, in order
            s, pt, o = t.subject, t.predicate, t.object
            p = names.get(pt)
            if p is None:
                p = names[pt] = pt.value
            by_p = out.get(s)
            if by_p is None:
                by_p = out[s] = {}
            objects = by_p.get(p)
            if objects is None:
                by_p[p] = [o]
            else:
                objects.append(o)
            if p == RDF_TYPE and isinstance(o, ox.NamedNode):
                by_type[o.value].append(s)
            if wanted is None or p in wanted:
                subjects_of[p].append(s)
                objects_of[p].append(o)
        self.out, self.by_type, self.subjects_of, self.objects_of = out, by_type, subjects_of, objects_of

    def values(self, node, path: tuple[str, ...]) -> list:
        if len(path) == 1:  # a predicate path (most shapes): the objects, each once, in order
            objects = self.out.get(node, {}).get(path[0], ())
            return list(dict.fromkeys(objects)) if len(objects) > 1 else list(objects)
        nodes = [node]
        for p in path:
            nxt, seen = [], set()
            for n in nodes:
                for o in self.out.get(n, {}).get(p, ()):
                    if o not in seen:
                        seen.add(o)
                        nxt.append(o)
            nodes = nxt
        return nodes

    def has_type(self, node, cls: str) -> bool:
        return any(isinstance(t, ox.NamedNode) and t.value == cls for t in self.out.get(node, {}).get(RDF_TYPE, ()))


# -- evaluation ---------------------------------------------------------------------------------------

_INT = re.compile(r"^[+-]?\d+$")
_DEC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_GYEAR = re.compile(r"^-?\d{4,}(Z|[+-]\d{2}:\d{2})?$")
_GYM = re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])(Z|[+-]\d{2}:\d{2})?$")
_INT_TYPES = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                                  "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}


def _well_formed(lit: ox.Literal) -> bool:
    dt, v = lit.datatype.value, lit.value
    try:
        if dt in _INT_TYPES:
            return bool(_INT.match(v))
        if dt == XSD + "decimal":
            return bool(_DEC.match(v))
        if dt in (XSD + "double", XSD + "float"):
            float(v)
            return True
        if dt == XSD + "boolean":
            return v in ("true", "false", "1", "0")
        if dt == XSD + "date":
            date.fromisoformat(v)
            return bool(re.match(r"^-?\d{4,}-\d{2}-\d{2}", v))
        if dt == XSD + "dateTime":
            datetime.fromisoformat(v.replace("Z", "+00:00"))
            return "T" in v
        if dt == XSD + "gYear":
            return bool(_GYEAR.match(v))
        if dt == XSD + "gYearMonth":
            return bool(_GYM.match(v))
    except ValueError:
        return False
    return True


def _number(term) -> Decimal | None:
    if not isinstance(term, ox.Literal):
        return None
    try:
        return Decimal(term.value)
    except InvalidOperation:
        return None


def _comparable(t) -> tuple[str, object]:
    """A term as SPARQL's <= sees it: strings (IRIs, plain and language strings) with strings,
    numbers with numbers; anything else can not be compared."""
    if isinstance(t, ox.NamedNode):
        return "s", t.value
    if isinstance(t, ox.Literal):
        if t.language or t.datatype.value == XSD + "string":
            return "s", t.value
        if t.datatype.value in _INT_TYPES or t.datatype.value in (XSD + "decimal", XSD + "double", XSD + "float"):
            return "n", _number(t) if _well_formed(t) else None
        return "o:" + t.datatype.value, t.value if _well_formed(t) else None
    return "b", None


def _node_kind_ok(v, kind: str) -> bool:
    k = kind.rsplit("#", 1)[-1]
    iri, blank, lit = isinstance(v, ox.NamedNode), isinstance(v, ox.BlankNode), isinstance(v, ox.Literal)
    return {"IRI": iri, "BlankNode": blank, "Literal": lit, "BlankNodeOrIRI": iri or blank,
            "IRIOrLiteral": iri or lit, "BlankNodeOrLiteral": blank or lit}.get(k, False)


def _datatype_ok(v, dt: str) -> bool:
    if not isinstance(v, ox.Literal):
        return False
    if v.language:
        return dt == LANG_STRING
    return v.datatype.value == dt and _well_formed(v)


_RANGES = (("minInclusive", lambda a, b: a >= b, ">="), ("maxInclusive", lambda a, b: a <= b, "<="),
           ("minExclusive", lambda a, b: a > b, ">"), ("maxExclusive", lambda a, b: a < b, "<"))


def _where(focus, path) -> str:
    return _text(focus) + (f"->{' / '.join(f'<{p}>' for p in path)}" if path else "")


def _text(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<{t.value}>"
    return str(t)


class Validator:
    def __init__(self, shapes: list[Shape], data: Data) -> None:
        self.shapes, self.data = shapes, data
        self._conf: dict = {}

    def focus_nodes(self, shape: Shape) -> list:
        out, seen = [], set()
        for kind, target in shape.targets:
            if kind == "targetClass":
                nodes = self.data.by_type.get(target.value, ()) if isinstance(target, ox.NamedNode) else ()
            elif kind == "targetNode":
                nodes = [target]
            elif kind == "targetSubjectsOf":
                nodes = self.data.subjects_of.get(target.value, ())
            else:
                nodes = self.data.objects_of.get(target.value, ())
            for n in nodes:
                if n not in seen:
                    seen.add(n)
                    out.append(n)
        return out

    def run(self) -> list[Result]:
        results: list[Result] = []
        for shape in self.shapes:
            for focus in self.focus_nodes(shape):
                results.extend(self.evaluate(shape, focus))
        return results

    def conforms(self, shape: Shape, node) -> bool:
        key = (id(shape), node)
        hit = self._conf.get(key)
        if hit is None:
            hit = self._conf[key] = not self.evaluate(shape, node)
        return hit

    def evaluate(self, shape: Shape, focus) -> list[Result]:
        if shape.params.get("deactivated"):
            return []
        out: list[Result] = []
        path = shape.path
        values = self.data.values(focus, path) if path is not None else [focus]
        result_path = path[0] if path is not None and len(path) == 1 else None
        prm = shape.params

        def add(component: str, value=None, default: str = "") -> None:
            message = shape.messages[0][1] if shape.messages else default.replace("{where}", _where(focus, path))
            out.append(Result(shape.severity, focus, result_path, value, shape.node, component + "ConstraintComponent",
                              shape.messages, message))

        where = "{where}"  # filled in only when a result needs the default message
        if "minCount" in prm and len(values) < prm["minCount"]:
            add("MinCount", None, f"Less than {prm['minCount']} values on {where}")
        if "maxCount" in prm and len(values) > prm["maxCount"]:
            add("MaxCount", None, f"More than {prm['maxCount']} values on {where}")
        for v in values:
            if "class" in prm and not self.data.has_type(v, prm["class"]):
                add("Class", v, f"Value does not have class <{prm['class']}>")
            if "datatype" in prm and not _datatype_ok(v, prm["datatype"]):
                add("Datatype", v, f"Value is not Literal with datatype <{prm['datatype']}>")
            if "nodeKind" in prm and not _node_kind_ok(v, prm["nodeKind"]):
                add("NodeKind", v, f"Value is not of Node Kind <{prm['nodeKind']}>")
            if "in" in prm and v not in prm["in"]:
                add("In", v, f"Value {_text(v)} not in list")
            if "node" in prm and not self.conforms(prm["node"], v):
                add("Node", v, f"Value does not conform to Shape {prm['node'].node}")
            if "or" in prm and not any(self.conforms(s, v) for s in prm["or"]):
                add("Or", v, "Node does not conform to one or more shapes in the sh:or list")
            if "not" in prm and self.conforms(prm["not"], v):
                add("Not", v, f"Node conforms to shape {prm['not'].node}")
            if "regex" in prm and (isinstance(v, ox.BlankNode) or not prm["regex"].search(v.value)):
                add("Pattern", v, f"Value does not match pattern '{prm['pattern']}'")
            for name, test, word in _RANGES:
                if name in prm:
                    kind, n = _comparable(v)
                    if kind != "n" or n is None or prm[name] is None or not test(n, prm[name]):
                        add(name[0].upper() + name[1:], v, f"Value is not {word} {prm[name]}")
            if "lessThanOrEquals" in prm:
                for w in self.data.values(focus, (prm["lessThanOrEquals"],)):
                    (ka, a), (kb, b) = _comparable(v), _comparable(w)
                    if ka != kb or a is None or b is None or not a <= b:
                        add("LessThanOrEquals", v, f"Value of {where} not <= value of <{prm['lessThanOrEquals']}>")
        if "hasValue" in prm and prm["hasValue"] not in values:
            add("HasValue", None, f"Node {where} does not contain a value in the set: {_text(prm['hasValue'])}")
        if "qualifiedValueShape" in prm:
            n = sum(1 for v in values if self.conforms(prm["qualifiedValueShape"], v))
            if "qualifiedMinCount" in prm and n < prm["qualifiedMinCount"]:
                add("QualifiedMinCount", None, f"Focus node does not conform to shape; less than {prm['qualifiedMinCount']} values on {where} conform")
            if "qualifiedMaxCount" in prm and n > prm["qualifiedMaxCount"]:
                add("QualifiedMaxCount", None, f"Focus node does not conform to shape; more than {prm['qualifiedMaxCount']} values on {where} conform")
        if path is None:
            for prop in shape.properties:
                out.extend(self.evaluate(prop, focus))
        else:
            for prop in shape.properties:  # property shapes of a property shape apply to its values
                for v in values:
                    out.extend(self.evaluate(prop, v))
        return out


def validate(triples: Iterable[ox.Triple], shapes: list[Shape] | None = None) -> list[Result]:
    """Every result of the guji shapes (or ``shapes``) over ``triples``."""
    shapes = shapes if shapes is not None else guji_shapes()
    return Validator(shapes, Data(triples, _targeted(shapes))).run()


def _targeted(shapes: list[Shape]) -> set[str]:
    """The predicates whose subjects or objects some shape targets."""
    return {getattr(t, "value", str(t)) for sh in shapes for kind, t in sh.targets
            if kind in ("targetSubjectsOf", "targetObjectsOf")}
