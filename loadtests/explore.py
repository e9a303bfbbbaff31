"""`make explore`: the model-based test of case work (tests/model/case_work.py), run long.

Runs batches of random sequences of what reporters and officers do until the time given is
up (default 30 minutes; `--minutes N`), with longer sequences than `make test` runs. When a
rule breaks, Hypothesis shrinks the sequence to the shortest it can find that still breaks it
and prints it, step by step, with the failure; the command then exits 1. It prints how many
sequences and steps it ran, and how long, when it finds nothing.

    python loadtests/explore.py [--minutes 30] [--steps 60] [--batch 25]
"""

import argparse
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import invariant, run_state_machine_as_test

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.model.case_work import CaseWork


class Counted(CaseWork):
    """The machine, counting the steps it takes (invariants run once after each)."""

    steps = 0

    @invariant()
    def count_the_steps(self):
        Counted.steps += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--steps", type=int, default=60, help="the longest sequence tried")
    parser.add_argument("--batch", type=int, default=25, help="sequences per batch")
    options = parser.parse_args()
    end = time.monotonic() + options.minutes * 60
    started, sequences = time.monotonic(), 0
    while time.monotonic() < end:
        run_state_machine_as_test(
            Counted,
            settings=settings(
                max_examples=options.batch,
                stateful_step_count=options.steps,
                deadline=None,
                database=None,
                phases=[Phase.generate, Phase.shrink, Phase.explain],
                suppress_health_check=list(HealthCheck),
                print_blob=True,
            ),
        )
        sequences += options.batch
        minutes = (time.monotonic() - started) / 60
        print(f"{sequences} sequences, {Counted.steps} steps, {minutes:.1f} minutes: no rule broken", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
