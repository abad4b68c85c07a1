"""Which checks a run grades: a role's checks in a profile, or only the ids asked for."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.catalog import Catalog, CatalogError, Check, Profile, Role, load_all


def chosen_checks(
    role: Role, only: Sequence[str] | None = None, profile: Profile = Profile.XGEN
) -> list[Check]:
    catalog: Catalog = load_all()
    if not only:
        return catalog.checks(role, profile)
    chosen = [catalog.get(check_id) for check_id in only]
    wrong = [c.id for c in chosen if c.role is not role]
    if wrong:
        raise CatalogError(f"{', '.join(wrong)} are not {role.value} checks")
    outside = [c.id for c in chosen if not profile.grades(c.source)]
    if outside:
        raise CatalogError(
            f"{', '.join(outside)} are not graded in profile {profile.value} (use --profile xgen)"
        )
    return chosen
