"""Read models of the ledger, rebuilt from the event log at any time."""

from jamsos_ledger.projections.runner import ProjectionStatus
from jamsos_ledger.projections.views import GROUPINGS, RankingInput, Views

__all__ = ["GROUPINGS", "ProjectionStatus", "RankingInput", "Views"]
