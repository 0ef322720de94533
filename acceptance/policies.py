"""Who sees and does what in the acceptance workflow, declared once.

- acceptance staff (role ``acceptance``) and admins: every unit; they import plans, review samples,
  run spot checks and accept batches;
- a provincial coordinator (role ``coordinator``): the units of the provinces they coordinate; they
  may submit those units' monthly catalogues;
- a submitting unit's member (role ``submitter`` with a membership): their own unit; they mark their
  sample and submit their catalogues;
- everyone else, the public included: nothing (opinions, defects, plans are never public).
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.errors import AuthenticationRequiredError
from accounts.identity import Identity, Role
from acceptance.errors import AcceptanceNotFoundError, NotYoursError

STAFF = (Role.ACCEPTANCE, Role.ADMIN)


def is_staff(identity: Identity) -> bool:
    return identity.authenticated and identity.role in STAFF


def require_staff(identity: Identity) -> None:
    if not identity.authenticated:
        raise AuthenticationRequiredError("this needs a logged-in user: send Authorization: Bearer <API key or token>")
    if not is_staff(identity):
        raise NotYoursError(f"this needs the role acceptance (acceptance staff) or admin; {identity.name} is {identity.role.value}"
                            " / 需要验收人员权限")


@dataclass(frozen=True)
class Scope:
    identity: Identity
    everything: bool
    units: frozenset[str]  # units whose records the caller sees (and, as a member, writes)
    provinces: frozenset[str]
    unit_provinces: dict

    def sees(self, unit: str | None) -> bool:
        if unit is None:
            return self.everything
        return self.everything or unit in self.units or self.unit_provinces.get(unit) in self.provinces

    def may_write(self, unit: str) -> bool:
        """Unit-side writes (mark a sample, submit a catalogue): staff, the unit's members, its coordinator."""
        return self.sees(unit)

    def require_unit(self, unit: str | None, *, write: bool = False) -> None:
        if not self.identity.authenticated:
            raise AuthenticationRequiredError("this needs a logged-in user: send Authorization: Bearer <API key or token>")
        if unit is None or unit not in self.unit_provinces:
            if self.everything:
                raise AcceptanceNotFoundError(f"no registered unit {unit!r} / 未登记的承建单位", field="unit", value=unit)
            raise NotYoursError("this belongs to a unit you are not a member of / 无权查看其他单位的记录")
        if not (self.may_write(unit) if write else self.sees(unit)):
            raise NotYoursError(f"{self.identity.name} may not see or act for unit {unit} / 无权查看或代表该单位")


def scope_of(identity: Identity, units: frozenset[str], provinces: frozenset[str], registry: dict) -> Scope:
    unit_provinces = {n: u["province"] for n, u in registry.items()}
    if not identity.authenticated:
        raise AuthenticationRequiredError("this needs a logged-in user: send Authorization: Bearer <API key or token>")
    if is_staff(identity):
        return Scope(identity, True, frozenset(registry), frozenset(unit_provinces.values()), unit_provinces)
    if identity.role is Role.COORDINATOR:
        return Scope(identity, False, frozenset(), provinces, unit_provinces)
    if identity.role is Role.SUBMITTER:
        return Scope(identity, False, units, frozenset(), unit_provinces)
    return Scope(identity, False, frozenset(), frozenset(), unit_provinces)
