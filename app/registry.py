"""The resources this service serves, in the order they are mounted: register a resource here.

Every central table (which resource owns a table, labels, the tables whose writes are counted,
what each database rule means, the published enumerations) is derived from this list when it is
built, and an inconsistent list stops start-up with a message (app.kit.registry).
"""

from __future__ import annotations

from app.admin_units.resource import ADMIN_UNITS
from app.cooperatives.importing import COOPERATIVES_IMPORT
from app.cooperatives.resource import COOPERATIVES
from app.kit.importing import ImportSpec, importers
from app.kit.registry import Registry
from app.models import Role
from app.programmes.resource import PROGRAMMES
from app.trade_fairs.resource import TRADE_FAIRS
from app.village_figures.importing import VILLAGE_FIGURES_IMPORT
from app.village_figures.resource import VILLAGE_FIGURES
from app.villages.importing import VILLAGES_IMPORT
from app.villages.resource import VILLAGES

REGISTRY = Registry(
    (
        ADMIN_UNITS,
        VILLAGES,
        VILLAGE_FIGURES,
        COOPERATIVES,
        PROGRAMMES,
        TRADE_FAIRS,
    ),
    # Published beside the resources' own: the staff roles.
    extra_enums={"role": Role},
)

# The resources that can be imported from a spreadsheet (POST /api/v1/imports), by path.
IMPORTS: dict[str, ImportSpec] = importers(VILLAGES_IMPORT, VILLAGE_FIGURES_IMPORT, COOPERATIVES_IMPORT)
