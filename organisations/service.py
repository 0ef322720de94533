"""The organisations service: every operation takes the caller's identity first.

Organisations and projects are public graphs written through ``store.replace_graphs`` (one
transaction each, with its change-log entry, so they reach public SPARQL, Neo4j and search live);
memberships are rows in :class:`~organisations.members.MemberStore`.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from accounts.errors import PermissionDeniedError
from accounts.identity import Identity
from annotation.errors import TargetMismatchError
from annotation.model import Category
from kg.errors import NotFoundError
from kg.graphs import is_annotation
from organisations import policies, stats
from organisations.errors import MembershipConflictError, OrganisationInputError, OrganisationNotFoundError
from organisations.members import Member, MemberStore
from organisations.model import (
    ORG_GRAPH_BASE,
    PROJECT_BASE,
    PROJECT_GRAPH_BASE,
    SLUG,
    MemberState,
    OrganisationCreate,
    ProjectCreate,
    ProjectRole,
    ProjectUpdate,
    check_slug,
    org_iri,
    project_iri,
)
from organisations.rdf import (
    org_graph,
    organisation_triples,
    project_graph,
    project_triples,
    read_organisation,
    read_project,
)


_PREFIXES = """PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX guji: <https://w3id.org/guji/ontology#>
"""


class OrganisationService:
    def __init__(self, store, members: MemberStore, *, users, annotations) -> None:
        """``users``: the user table (accounts.users.UserStore); ``annotations``: the AnnotationService
        (its scope resolution and listing)."""
        self.store = store
        self.members = members
        self.users = users
        self.annotations = annotations
        self._lock = threading.Lock()
        # the juans each scope IRI stands for, asked on every create in a project: kept until a
        # graph other than an annotation's changes (a text or catalogue write can add juans)
        self._scope_juans: dict[str, frozenset[str]] = {}
        if hasattr(store, "subscribe"):
            store.subscribe(self._forget_scopes)

    def _forget_scopes(self, changes) -> None:
        if any(not is_annotation(c.graph) for c in changes):
            self._scope_juans = {}

    # -- identity -----------------------------------------------------------------------------

    def with_projects(self, identity: Identity) -> Identity:
        """The identity with its active project roles (read per request, like the global role)."""
        if not identity.authenticated:
            return identity
        roles = tuple((project_iri(m.project), m.role.value) for m in self.members.of_user(identity.name)
                      if m.state is MemberState.ACTIVE)
        return replace(identity, projects=roles) if roles else identity

    # -- organisations ------------------------------------------------------------------------

    def create_organisation(self, identity: Identity, data: OrganisationCreate) -> dict:
        policies.require_global_admin(identity, "creating an organisation")
        check_slug(data.id, "id")
        with self._lock:
            if list(self.store.triples(org_graph(data.id))):
                raise MembershipConflictError(f"organisation {data.id!r} exists already", id=data.id)
            self.store.replace_graphs({org_graph(data.id): organisation_triples(data)}, agent=identity.agent)
        return self.organisation(data.id)

    def organisation(self, slug: str) -> dict:
        org = read_organisation(slug, self.store.triples(org_graph(slug))) if isinstance(slug, str) and SLUG.match(slug) else None
        if org is None:
            raise OrganisationNotFoundError(f"no organisation {slug!r}", id=slug)
        org["projects"] = [p for p in self.projects() if p["organisation"] == slug]
        return org

    def organisations(self) -> list[dict]:
        slugs = sorted(g[len(ORG_GRAPH_BASE):] for g in self.store.graphs() if g.startswith(ORG_GRAPH_BASE))
        found = [read_organisation(s, self.store.triples(org_graph(s))) for s in slugs]
        return [o for o in found if o]

    # -- projects -----------------------------------------------------------------------------

    def _check_scope(self, scope: list[str]) -> list[str]:
        for i, iri in enumerate(scope):
            try:
                juans = self.annotations.juans_of(iri)
            except TargetMismatchError:
                juans = []
            if not juans:
                raise OrganisationInputError(
                    f"scope[{i}] <{iri}> is not a work, digital copy or juan with text in this store "
                    "（项目范围须为库中有全文的作品、数字副本或卷）", field=f"scope[{i}]")
        return scope

    def create_project(self, identity: Identity, data: ProjectCreate) -> dict:
        policies.require_global_admin(identity, "creating a project")
        check_slug(data.id, "id")
        check_slug(data.organisation, "organisation")
        self.organisation(data.organisation)  # 404 when unknown
        self._check_scope(data.scope)
        for i, name in enumerate(data.admins):
            if self.users.get(name) is None:
                raise OrganisationInputError(f"admins[{i}]: no user {name!r} (create it with guji users add)",
                                             field=f"admins[{i}]")
        with self._lock:
            if list(self.store.triples(project_graph(data.id))):
                raise MembershipConflictError(f"project {data.id!r} exists already", id=data.id)
            self.store.replace_graphs({project_graph(data.id): project_triples(
                data.id, data.organisation, data.name, data.guideline, data.guideline_url, data.scope)}, agent=identity.agent)
            for name in data.admins:
                self.members.put(data.id, name, ProjectRole.ADMIN, MemberState.ACTIVE, identity.name)
        return self.project(data.id)

    def update_project(self, identity: Identity, slug: str, data: ProjectUpdate) -> dict:
        current = self.project(slug)
        policies.require_project_admin(identity, current["iri"], "editing a project")
        self._check_scope(data.scope)
        with self._lock:
            self.store.replace_graphs({project_graph(slug): project_triples(
                slug, current["organisation"], data.name, data.guideline, data.guideline_url, data.scope)}, agent=identity.agent)
        return self.project(slug)

    def project(self, slug: str) -> dict:
        p = read_project(slug, self.store.triples(project_graph(slug))) if isinstance(slug, str) and SLUG.match(slug) else None
        if p is None:
            raise OrganisationNotFoundError(f"no project {slug!r}", id=slug)
        return p

    def projects(self) -> list[dict]:
        slugs = sorted(g[len(PROJECT_GRAPH_BASE):] for g in self.store.graphs() if g.startswith(PROJECT_GRAPH_BASE))
        found = [read_project(s, self.store.triples(project_graph(s))) for s in slugs]
        return [p for p in found if p]

    # -- members ------------------------------------------------------------------------------

    def member_list(self, identity: Identity, slug: str) -> list[dict]:
        p = self.project(slug)
        policies.require_project_member(identity, p["iri"], "the member list")
        return [m.json() for m in self.members.of_project(slug)]

    def my_projects(self, identity: Identity) -> list[dict]:
        policies.require_login(identity, "your projects")
        out = []
        for m in self.members.of_user(identity.name):
            try:
                p = self.project(m.project)
            except NotFoundError:
                continue
            out.append(m.json() | {"name": p["name"], "organisation": p["organisation"], "iri": p["iri"]})
        return out

    def invite(self, identity: Identity, slug: str, user: str, role: ProjectRole) -> dict:
        p = self.project(slug)
        policies.require_project_admin(identity, p["iri"], "inviting members")
        if self.users.get(user) is None:
            raise OrganisationNotFoundError(f"no user {user!r}", user=user)
        with self._lock:
            m = self.members.get(slug, user)
            if m is not None and m.state is MemberState.ACTIVE:
                raise MembershipConflictError(f"{user} is a member of {slug} already ({m.role.value})", user=user)
            # the user asked already: the invitation answers the request
            state = MemberState.ACTIVE if m is not None and m.state is MemberState.REQUESTED else MemberState.INVITED
            return self.members.put(slug, user, role, state, identity.name).json()

    def request(self, identity: Identity, slug: str, role: ProjectRole) -> dict:
        policies.require_login(identity, "asking to join a project")
        self.project(slug)
        if role is ProjectRole.ADMIN:  # admins are named by the global admin or invited by a project admin
            raise OrganisationInputError("one asks to join as annotator or reviewer; a project admin is invited "
                                         "（项目管理员须由邀请产生）", field="role")
        with self._lock:
            m = self.members.get(slug, identity.name)
            if m is not None and m.state is MemberState.ACTIVE:
                raise MembershipConflictError(f"you are a member of {slug} already ({m.role.value})")
            if m is not None and m.state is MemberState.INVITED:
                raise MembershipConflictError(f"you are invited to {slug} already: accept the invitation",
                                              state=m.state.value)
            return self.members.put(slug, identity.name, role, MemberState.REQUESTED, identity.name).json()

    def accept(self, identity: Identity, slug: str) -> dict:
        policies.require_login(identity, "accepting an invitation")
        self.project(slug)
        with self._lock:
            m = self.members.get(slug, identity.name)
            if m is None or m.state is not MemberState.INVITED:
                raise MembershipConflictError(f"there is no invitation to {slug} for you to accept",
                                              state=m.state.value if m else None)
            return self.members.put(slug, m.user, m.role, MemberState.ACTIVE, m.asked_by).json()

    def approve(self, identity: Identity, slug: str, user: str) -> dict:
        p = self.project(slug)
        policies.require_project_admin(identity, p["iri"], "approving members")
        with self._lock:
            m = self.members.get(slug, user)
            if m is None or m.state is not MemberState.REQUESTED:
                raise MembershipConflictError(f"{user} has not asked to join {slug}", user=user,
                                              state=m.state.value if m else None)
            return self.members.put(slug, user, m.role, MemberState.ACTIVE, m.asked_by).json()

    def remove(self, identity: Identity, slug: str, user: str) -> None:
        """A project admin removes a member (or an invitation, or a request); a user leaves (or declines)."""
        p = self.project(slug)
        if identity.name != user:
            policies.require_project_admin(identity, p["iri"], "removing members")
        with self._lock:
            m = self.members.get(slug, user)
            if m is None:
                raise OrganisationNotFoundError(f"{user} is not in project {slug}", user=user)
            admins = [x for x in self.members.of_project(slug) if x.role is ProjectRole.ADMIN and x.state is MemberState.ACTIVE]
            if m.role is ProjectRole.ADMIN and m.state is MemberState.ACTIVE and len(admins) == 1:
                raise MembershipConflictError(f"{user} is the last admin of {slug}: make someone else admin first", user=user)
            self.members.remove(slug, user)

    # -- annotations --------------------------------------------------------------------------

    def delegation(self, identity: Identity, source: str, project: str | None) -> tuple[str, str] | None:
        """For AnnotationService.create: (project IRI, organisation IRI) of a new annotation on juan
        ``source``; None when it is made outside any project."""
        mine = {p: r for p, r in identity.projects}
        if project is not None:
            slug = project[len(PROJECT_BASE):] if project.startswith(PROJECT_BASE) else project
            try:
                p = self.project(slug)
            except NotFoundError:
                raise OrganisationInputError(f"guji:project: no project {project!r}", field="guji:project") from None
            if p["iri"] not in mine:
                raise PermissionDeniedError(
                    f"you ({identity.name}) are not a member of project {slug}: ask to join it first; 您不是该项目成员",
                    project=p["iri"])
            if source not in self._juans(p):
                raise OrganisationInputError(
                    f"<{source}> is outside project {slug}'s scope（该卷不在项目范围内）", field="target.source")
            return p["iri"], p["organisation_iri"]
        candidates = []
        for iri in mine:
            try:
                p = self.project(iri[len(PROJECT_BASE):])
            except NotFoundError:
                continue
            if source in self._juans(p):
                candidates.append(p)
        if not candidates:
            return None
        if len(candidates) > 1:
            raise OrganisationInputError(
                "you work in several projects covering this text: say which one in guji:project ("
                + ", ".join(p["id"] for p in candidates) + ")（请选择项目）", field="guji:project",
                projects=[p["id"] for p in candidates])
        return candidates[0]["iri"], candidates[0]["organisation_iri"]

    def _juans(self, p: dict) -> set[str]:
        out: set[str] = set()
        cache = self._scope_juans
        for iri in p["scope"]:
            if iri not in cache:
                cache[iri] = frozenset(self.annotations.juans_of(iri))
            out |= cache[iri]
        return out

    # -- statistics ---------------------------------------------------------------------------

    def _annotations(self, project_iris: list[str]) -> list[stats.Row]:
        """The statistics' view of every annotation of the projects: one query for the annotations
        and their preferred reading, one for their review steps (history graphs included)."""
        if not project_iris:
            return []
        values = " ".join(f"<{p}>" for p in project_iris)
        rows = self.store.query(f"""{_PREFIXES}
            SELECT ?a ?creator ?status ?src ?s ?e ?cat ?purpose ?rsrc WHERE {{ VALUES ?p {{ {values} }}
              GRAPH ?g {{ ?a a oa:Annotation ; guji:project ?p ; guji:reviewStatus ?status ; dcterms:creator ?creator ;
                  oa:hasTarget ?t . ?t oa:hasSource ?src ; oa:hasSelector ?ps . ?ps oa:start ?s ; oa:end ?e .
                  BIND(IRI(CONCAT(STR(?a), "/reading/1")) AS ?r)
                  OPTIONAL {{ ?r guji:category ?cat ; oa:hasPurpose ?purpose ; oa:hasSource ?rsrc }} }}
              FILTER(?status != "deleted") }}""")
        out: dict[str, stats.Row] = {}
        for r in rows:
            a = r["a"].value
            identifying = r["purpose"] is not None and r["purpose"].value.endswith("#identifying")
            out[a] = stats.Row(a.rsplit("/", 1)[1], r["creator"].value, r["status"].value, r["src"].value,
                               int(r["s"].value), int(r["e"].value),
                               Category.parse(r["cat"].value).value if r["cat"] is not None else None,
                               r["rsrc"].value if identifying else None)
        reviews = self.store.query(f"""{_PREFIXES}
            SELECT ?a ?action ?at WHERE {{ VALUES ?p {{ {values} }}
              GRAPH ?g {{ ?a guji:project ?p }}
              GRAPH ?h {{ ?a guji:history ?he . ?he guji:action ?action ; prov:atTime ?at }}
              FILTER(?action IN ("approve", "reject")) }}""")
        seen = set()
        for r in reviews:
            key = (r["a"].value, r["action"].value, r["at"].value)
            if r["a"].value in out and key not in seen:  # an approved one's project triple is in two graphs
                seen.add(key)
                out[r["a"].value].reviews.append((r["action"].value, r["at"].value))
        return list(out.values())

    def project_stats(self, identity: Identity, slug: str) -> dict:
        p = self.project(slug)
        policies.require_project_member(identity, p["iri"], "a project's statistics", reviewers=True)
        members = [m for m in self.members.of_project(slug) if m.state is MemberState.ACTIVE]
        return {"project": slug, "organisation": p["organisation"], "members": len(members)} | stats.summary(
            self._annotations([p["iri"]]))

    def organisation_stats(self, identity: Identity, slug: str) -> dict:
        org = self.organisation(slug)
        iris = [p["iri"] for p in org["projects"]]
        policies.require_organisation_member(identity, iris, "an organisation's statistics")
        total = {"organisation": slug} | stats.summary(self._annotations(iris))
        total["projects"] = [{"project": p["id"], "name": p["name"], "by_status": stats.by_status(self._annotations([p["iri"]]))}
                             for p in org["projects"]]
        return total

    def credit(self, slug: str, *, limit: int = 200) -> dict:
        """What the public sees of an organisation: its record, projects, and the approved annotations
        its members made for it."""
        org = self.organisation(slug)
        rows = self.store.query(f"""PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX prov: <http://www.w3.org/ns/prov#>
            PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX guji: <https://w3id.org/guji/ontology#>
            SELECT ?a ?creator ?exact ?src ?start WHERE {{ GRAPH ?g {{
              ?a a oa:Annotation ; guji:reviewStatus "approved" ; dcterms:creator ?creator ; oa:hasTarget ?t .
              ?creator prov:actedOnBehalfOf <{org_iri(slug)}> .
              ?t oa:hasSource ?src ; oa:hasSelector ?q , ?p . ?q oa:exact ?exact . ?p oa:start ?start }}
              FILTER(STRSTARTS(STR(?g), "https://w3id.org/guji/graph/annotation/")) }}""")
        seen: dict[str, dict] = {}
        for r in rows:
            seen.setdefault(r["a"].value, {"annotation": r["a"].value.rsplit("/", 1)[1], "exact": r["exact"].value,
                                           "source": r["src"].value, "start": int(r["start"].value),
                                           "creator": r["creator"].value.rsplit("/", 1)[1]})
        items = sorted(seen.values(), key=lambda x: x["annotation"])
        return org | {"approved": len(items), "annotations": items[-limit:],
                      "annotators": sorted({i["creator"] for i in items})}
