"""Publishing counts without exposing anyone: small-cell and complementary suppression.

A count from 1 to threshold-1 could point at a person (two complaints from a small
duty station), so it is withheld. Hiding cells of a table whose total is published is
not enough: the total minus the published cells gives back their sum, and a sum of
withheld cells that is itself small, or holds only one cell, narrows each of them (two
hidden cells adding up to 2 are both 1; two that say "<5" and add up to 8 are both 4).
So in such a table (secondary suppression, as Eurostat's and the UK ONS's statistical
disclosure control guidance describe it), the next smallest cells are withheld beside the
small ones until each withheld cell could be anything from 1 to threshold-1 whatever the
others are: at least two of them, holding at least threshold + (how many) - 2 between them
(each is at least 1, since zeros are printed). Every withheld cell of that table then reads
only "suppressed", since a "<5" beside a known sum bounds them jointly. Should the table run
out of cells to add (every non-zero cell small), its zeros are withheld too, and no reader
can tell an empty row from a small one: each is then anything from 0 to the total. A table
whose total is itself small withholds every cell, zeros too ("<5": each is 0 to 4).
"""

from dataclasses import dataclass

SUPPRESSED = "suppressed"
# Why a cell is withheld, for the publication draft's list of what it withholds.
SMALL, PROTECTS_ANOTHER, SMALL_TOTAL = "small", "protects_another", "small_total"


@dataclass(frozen=True)
class Cell:
    key: str
    count: int
    shown: str  # what is published: the number, "<5", or "suppressed" (hidden with others whose sum is known)
    reason: str | None = None  # SMALL, PROTECTS_ANOTHER or SMALL_TOTAL when withheld

    @property
    def suppressed(self) -> bool:
        return not self.shown.isdigit()


def small(count: int, threshold: int) -> bool:
    return 0 < count < threshold


def protected(hidden: list[int], threshold: int) -> bool:
    """Whether non-zero cells withheld together from a published total protect each other: each can be
    anything from 1 to threshold-1 given their sum (the others at least 1 each), and there are two or more."""
    return len(hidden) >= 2 and sum(hidden) >= threshold + len(hidden) - 2


def suppress(counts: dict[str, int], threshold: int, total: int | None = None) -> list[Cell]:
    """Cells ready to publish. Pass `total` when the cells add up to a published total."""
    hidden = f"<{threshold}"
    if total is not None and small(total, threshold):
        return [Cell(k, v, hidden, SMALL_TOTAL) for k, v in counts.items()]
    suppressed = {k for k, v in counts.items() if small(v, threshold)}
    if not suppressed or total is None or sum(counts.values()) != total:
        # No published sum ties these cells together: each "<5" says only what it says.
        return [Cell(k, v, hidden, SMALL) if k in suppressed else Cell(k, v, str(v)) for k, v in counts.items()]
    protecting: set[str] = set()
    # The smallest remaining non-zero cells until the withheld ones protect each other; the
    # cells added are not small, so one is almost always enough.
    candidates = sorted((v, k) for k, v in counts.items() if k not in suppressed and v > 0)
    while not protected([counts[k] for k in suppressed | protecting], threshold) and candidates:
        protecting.add(candidates.pop(0)[1])
    if not protected([counts[k] for k in suppressed | protecting], threshold):
        # Every non-zero cell is withheld and still too few: the zeros go with them, so that none is known to be non-zero.
        protecting |= {k for k, v in counts.items() if v == 0}
    return [
        Cell(k, v, SUPPRESSED, SMALL if k in suppressed else PROTECTS_ANOTHER)
        if k in suppressed | protecting
        else Cell(k, v, str(v))
        for k, v in counts.items()
    ]


def publish_total(total: int, threshold: int) -> str:
    return f"<{threshold}" if small(total, threshold) else str(total)
