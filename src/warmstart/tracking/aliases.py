"""The registry aliases a model's versions carry, and the model that guards `champion`.

`champion` names the version in production: only a promotion moves it (`promotion`).
`current` names the newest version, promoted or not; the role aliases (`base`, `warm`) are the
roles of `stage_names.ROLE_STAGES`. Standard library only.
"""

from __future__ import annotations

CHAMPION_ALIAS = "champion"
CURRENT_ALIAS = "current"  # the newest version, promoted or not


def champion_lock_model(name: str) -> str:
    """The registered model that exists only while a promotion moves `champion` of `name`."""
    return f"{name}.champion-lock"
