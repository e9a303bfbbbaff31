"""Publishing counts without exposing anyone: small-cell and complementary suppression.

A count from 1 to threshold-1 could point at a person (two complaints from a small
duty station), so it is shown as "<threshold". Hiding one cell of a table whose total
is published is not enough: the total minus the other cells gives it back. So when a
table partitions its total and exactly one cell is hidden, the next smallest cell is
hidden too (complementary suppression; every hidden cell of that table then reads
"suppressed", since the second is not small), and a total that is itself small hides
everything.
"""

from dataclasses import dataclass

SUPPRESSED = "suppressed"
# Why a cell is withheld, for the publication draft's list of what it withholds.
SMALL, PROTECTS_ANOTHER, SMALL_TOTAL = "small", "protects_another", "small_total"


@dataclass(frozen=True)
class Cell:
    key: str
    count: int
    shown: str  # what is published: the number, "<5", or "suppressed" (hidden to protect another cell)
    reason: str | None = None  # SMALL, PROTECTS_ANOTHER or SMALL_TOTAL when withheld

    @property
    def suppressed(self) -> bool:
        return not self.shown.isdigit()


def small(count: int, threshold: int) -> bool:
    return 0 < count < threshold


def suppress(counts: dict[str, int], threshold: int, total: int | None = None) -> list[Cell]:
    """Cells ready to publish. Pass `total` when the cells add up to a published total."""
    hidden = f"<{threshold}"
    if total is not None and small(total, threshold):
        return [Cell(k, v, hidden, SMALL_TOTAL) if v else Cell(k, v, "0") for k, v in counts.items()]
    suppressed = {k for k, v in counts.items() if small(v, threshold)}
    protecting: set[str] = set()
    if total is not None and sum(counts.values()) == total:
        while len(suppressed) == 1:
            # The smallest remaining non-zero cell; a zero cell reveals nothing and cannot help.
            candidates = sorted((v, k) for k, v in counts.items() if k not in suppressed and v > 0)
            if not candidates:
                break
            # A cell hidden to protect another is not small: "<5" would be untrue. Every hidden cell
            # of the table then says only "suppressed", so no reader can tell which one was small.
            suppressed.add(candidates[0][1])
            protecting.add(candidates[0][1])
            hidden = SUPPRESSED
    return [
        Cell(k, v, hidden, PROTECTS_ANOTHER if k in protecting else SMALL) if k in suppressed else Cell(k, v, str(v))
        for k, v in counts.items()
    ]


def publish_total(total: int, threshold: int) -> str:
    return f"<{threshold}" if small(total, threshold) else str(total)
