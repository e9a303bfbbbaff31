"""Statement-reuse benchmark: what one execution of a case page's statement costs, by how it is built.

Run: make bench-statements   (or: .venv/bin/python loadtests/bench_statements.py [--executions 500])

store.py's idiom (a statement a request runs every time is a module-level value with `bindparam`)
rests on this. Each way runs the statement that reads a case's messages against an SQLite database
(the database's own work is the same for every way): built once with `bindparam`, built per call as a
plain statement, and `lambda_stmt`. Each way runs in its own process under valgrind's callgrind, and
the instructions of a process that only sets up are subtracted, so a row is what one execution costs,
repeatable to about 1% however busy the host.
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

WAYS = ("setup only", "built once", "plain", "lambda_stmt")


def run(way: str, executions: int) -> None:
    """In the child process: `executions` executions of the statement built `way`."""
    from sqlalchemy import bindparam, lambda_stmt
    from sqlmodel import Session, col, select

    from intake import store
    from intake.store import Message

    engine = store.make_engine(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    store.migrate(engine)
    built_once = select(Message).where(col(Message.case_id) == bindparam("case_id")).order_by(col(Message.number))

    def execute(db: Session, case_id: str) -> object:
        if way == "built once":
            return db.exec(built_once, params={"case_id": case_id}).all()
        if way == "plain":
            return db.exec(select(Message).where(col(Message.case_id) == case_id).order_by(col(Message.number))).all()
        if way == "lambda_stmt":
            statement = lambda_stmt(lambda: select(Message).where(Message.case_id == case_id).order_by(Message.number))
            return db.execute(statement).scalars().all()
        return None

    with Session(engine) as db:
        for number in range(executions):
            execute(db, f"OIG-{number % 5:010d}")


def instructions(way: str, executions: int, out: Path) -> int:
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", sys.executable, __file__]
    done = subprocess.run([*command, "--way", way, "--executions", str(executions)], capture_output=True, text=True, check=True)
    return int(re.findall(r"Collected : (\d+)", done.stderr)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--executions", type=int, default=500)
    parser.add_argument("--way", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.way:
        run(args.way, args.executions)
        return
    with tempfile.TemporaryDirectory() as out:
        counts = {way: instructions(way, args.executions, Path(out)) for way in WAYS}
    base = counts["setup only"]
    once = (counts["built once"] - base) / args.executions
    print(f"{'statement built':<14} {'k instructions / execution':>28} {'vs built once':>14}")
    for way in WAYS[1:]:
        each = (counts[way] - base) / args.executions
        print(f"{way:<14} {each / 1000:>28.0f} {each / once:>13.2f}x")


if __name__ == "__main__":
    main()
