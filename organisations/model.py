"""Organisations, annotation projects and memberships: the records and their checks."""

from __future__ import annotations

import re
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kg.namespaces import GG, ID

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$|^[a-z0-9]$")
# ISIL (ISO 15511): a country or other prefix, a hyphen, then up to 11 more characters; at most 16 in all
ISIL = re.compile(r"^[A-Za-z]{1,4}-[A-Za-z0-9:/\-]{1,11}$")
IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")

ORG_BASE = ID + "agent/org/"  # the same agents as acceptance/ submitting units: one IRI per body
PROJECT_BASE = ID + "project/"
ORG_GRAPH_BASE = GG + "organisations/"
PROJECT_GRAPH_BASE = GG + "projects/"


def org_iri(slug: str) -> str:
    return ORG_BASE + slug


def project_iri(slug: str) -> str:
    return PROJECT_BASE + slug


class ProjectRole(str, Enum):
    """Roles inside one project, in rising order: an admin reviews too, a reviewer annotates too."""

    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"annotator": 1, "reviewer": 2, "admin": 3}[self.value]


class MemberState(str, Enum):
    INVITED = "invited"  # a project admin invited the user; the user accepts
    REQUESTED = "requested"  # the user asked to join; a project admin approves
    ACTIVE = "active"


def check_slug(value: str, field: str) -> str:
    from organisations.errors import OrganisationInputError

    if not isinstance(value, str) or not SLUG.match(value):
        raise OrganisationInputError(
            f"{field} must be 1-64 lower-case letters, digits or '-' (not at the ends), got {value!r} "
            f"（标识只能用小写字母、数字和连字符）", field=field)
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganisationCreate(_Model):
    id: str = Field(description="short id used in addresses, e.g. 'nlc' (lower-case letters, digits, '-')")
    name: str = Field(min_length=1, max_length=200, description="the organisation's name, e.g. 中国国家图书馆")
    name_en: str | None = Field(None, max_length=200)
    authority: str = Field(min_length=1, max_length=500,
                           description="an authority id: an ISIL (e.g. CN-110000-NLC) or an authority IRI (VIAF, ISNI, CBDB, Wikidata ...)")
    homepage: str | None = Field(None, max_length=500)

    @field_validator("authority")
    @classmethod
    def _authority(cls, v: str) -> str:
        if not (ISIL.match(v) or IRI.match(v)):
            raise ValueError("an authority id is an ISIL (ISO 15511, e.g. CN-110000-NLC) or an http(s) IRI of an "
                             "authority record (VIAF, ISNI, CBDB, Wikidata); 机构规范标识须为 ISIL 或规范记录 IRI")
        return v

    _homepage = field_validator("homepage")(classmethod(lambda cls, v: _http_address(v, "homepage")))


def _http_address(value: str | None, field: str) -> str | None:
    """An optional link (a homepage, a guideline): an http(s) address or nothing."""
    if value is not None and not IRI.match(value):
        raise ValueError(f"{field} must be an http(s) address")
    return value


class ProjectCreate(_Model):
    id: str
    organisation: str = Field(description="the organisation's id")
    name: str = Field(min_length=1, max_length=200)
    guideline: str = Field("", max_length=20000, description="the project's annotation guideline (text)")
    guideline_url: str | None = Field(None, max_length=500, description="a link to a longer guideline")
    scope: list[str] = Field(min_length=1, max_length=500,
                             description="works, digital copies or juan (IRIs) the project annotates")
    admins: list[str] = Field(default_factory=list, max_length=20, description="users who become project admins")

    _url = field_validator("guideline_url")(classmethod(lambda cls, v: _http_address(v, "guideline_url")))


class ProjectUpdate(_Model):
    name: str = Field(min_length=1, max_length=200)
    guideline: str = Field("", max_length=20000)
    guideline_url: str | None = Field(None, max_length=500)
    scope: list[str] = Field(min_length=1, max_length=500)

    _url = field_validator("guideline_url")(classmethod(lambda cls, v: _http_address(v, "guideline_url")))
