"""Organisation and project records: authority ids, slugs, and their RDF."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from organisations.errors import OrganisationInputError
from organisations.model import OrganisationCreate, check_slug
from organisations.rdf import organisation_triples, project_triples, read_organisation, read_project


@pytest.mark.parametrize("authority", ["CN-110000-NLC", "US-DLC", "http://viaf.org/viaf/139230693",
                                       "https://www.wikidata.org/entity/Q732412"])
def test_authority_ids_accepted(authority):
    o = OrganisationCreate(id="x", name="某館", authority=authority)
    back = read_organisation("x", organisation_triples(o))
    assert back["authority"] == authority and back["name"] == "某館"


@pytest.mark.parametrize("authority", ["not an id", "CN110000NLC", "ftp://x/y", "CN-" + "1" * 20, "javascript:alert(1)"])
def test_authority_ids_refused(authority):
    with pytest.raises(ValidationError, match="ISIL"):
        OrganisationCreate(id="x", name="某館", authority=authority)


@pytest.mark.parametrize("slug", ["NLC", "-a", "a-", "a b", "館", "a" * 65, ""])
def test_slugs_refused_with_the_field(slug):
    with pytest.raises(OrganisationInputError) as e:
        check_slug(slug, "id")
    assert e.value.details["field"] == "id"


def test_project_rdf_round_trip_keeps_every_character():
    guideline = "人名標全名；字號另立。\n𫝊 字照錄"
    p = read_project("p1", project_triples("p1", "nlc", "岳陽樓記", guideline, "https://example.org/g",
                                           ["https://w3id.org/guji/id/text/A/master/001", "https://w3id.org/guji/id/work/A"]))
    assert p["guideline"] == guideline and p["organisation"] == "nlc" and len(p["scope"]) == 2
