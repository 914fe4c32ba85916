"""Rules are the tenant's configuration: staff granted sites read them all (they decide what
fires at those sites); no partner reaches them."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Table, true

from supplyline.kernel.scope import Reach, ReachKind
from supplyline.resources import Visibility, VisibilityRules
from supplyline.rules.tables import rules_rule


def _rules(
    table: Table, reach: Reach, tenant: uuid.UUID, rules: VisibilityRules
) -> ColumnElement[bool] | None:
    return true() if reach.kind is ReachKind.SITES else None


VISIBILITY = [Visibility("rules", rules_rule, _rules)]
