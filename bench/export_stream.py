"""Export streaming: memory growth and time of our CSV export against pandas, side by side.

Builds a database with ``--responses`` responses (default 10,000) to a questionnaire of
``--questions`` questions (default 150: integers, decimals, dates, select_one, select_multiple
and free text), then measures, each in a fresh Python process so that no run inherits another's
memory:

``ours-csv``       the wide CSV export as researchers download it (a streamed zip with the
                   codebook and manifest), through :func:`surveys.exports.service.stream_export`,
                   the generator the HTTP route streams, in its own snapshot session;
``ours-csv-long``  the long CSV, bare (``plain=true``);
``pandas``         ``pandas.read_sql`` of the same submitted rows (answers decoded by the same
                   SQLAlchemy JSON type), the answers spread into columns, ``DataFrame.to_csv``.

Memory growth is the peak resident set (``VmHWM`` in ``/proc/self/status``) minus the resident set
just before the export starts (after imports and the database connection). Every run writes its
output to a temporary file, as a client would. Results go to ``bench/results/export_stream.json``.
Targets (RELIABILITY.md scenario 26, issue 7): growth under 200 MB; time at most 1.5x pandas.

Data: by default every response goes through :func:`surveys.responses.submission.submit` (validated,
typed, stored with its version row, as a centre's submission is). ``--insert bulk`` stores the
same validated answers with bulk INSERTs of the same rows (faster to build, same stored shape).

    .venv/bin/python bench/export_stream.py [--responses 10000] [--questions 150]
        [--database-url URL] [--insert service|bulk] [--repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

RESULTS = REPO_ROOT / "bench" / "results" / "export_stream.json"
TARGET_GROWTH_MB = 200
TARGET_RATIO = 1.5
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
CENTRES = 1000
CHOICES = ["alpha", "bravo", "charlie", "delta", "echo"]
WORDS = ["scanner", "linac", "cyclotron", "waiting", "list", "staff", "nurse", "physicist"]
WORDS += ["\u03b1", "é", "ü", "✓", "-x", "=y", "+33 1 23"]


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


# --- the questionnaire and the data ------------------------------------------------------------


def question_kinds(count: int) -> list[tuple[str, str]]:
    """(name, type) of ``count`` questions in a realistic mix."""
    mix = (
        ["integer"] * 10
        + ["decimal"] * 4
        + ["select_one"] * 6
        + ["select_multiple"] * 2
        + ["text"] * 5
        + ["date"] * 3
    )
    return [(f"q{i:03d}", mix[i % len(mix)]) for i in range(count)]


def form_markdown(count: int) -> str:
    rows = ["| survey |", "| | type | name | label::en |"]
    for name, kind in question_kinds(count):
        full = f"{kind} opts" if kind.startswith("select") else kind
        rows.append(f"| | {full} | {name} | Question {name} |")
    rows += ["| choices |", "| | list_name | name | label::en |"]
    rows += [f"| | opts | {c} | {c.title()} |" for c in CHOICES]
    rows += [
        "| settings |",
        "| | form_id | version | title::en | domain |",
        "| | bench_export | 1 | Export benchmark | radiomics |",
    ]
    return "\n".join(rows) + "\n"


def random_answers(rng: random.Random, kinds: list[tuple[str, str]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for name, kind in kinds:
        if rng.random() < 0.1:
            continue  # unanswered
        if kind == "integer":
            answers[name] = rng.randint(-5, 5000)
        elif kind == "decimal":
            answers[name] = round(rng.uniform(0, 1000), 3)
        elif kind == "select_one":
            answers[name] = rng.choice(CHOICES)
        elif kind == "select_multiple":
            answers[name] = rng.sample(CHOICES, rng.randint(1, 3))
        elif kind == "date":
            answers[name] = (
                dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 2000))
            ).isoformat()
        else:
            answers[name] = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))
    return answers


def build(url: str, responses: int, questions: int, insert: str) -> dict[str, Any]:
    from sqlalchemy import insert as sql_insert

    from surveys import migrate
    from surveys.campaigns.lifecycle import create_synthetic_campaign, open_campaign
    from surveys.db import make_engine, make_session_factory, transaction
    from surveys.policy import system_actor
    from surveys.questionnaires.answers import validate_answers
    from surveys.questionnaires.definitions.compiled import compile_definition
    from surveys.questionnaires.definitions.tables import read_markdown
    from surveys.questionnaires.service import import_definition, publish_version
    from surveys.registry.countries import seed_countries
    from surveys.registry.models import Centre, Country
    from surveys.responses.models import Response, ResponseStatus, ResponseVersion, ReviewState
    from surveys.responses.submission import answers_hash, submit

    started = time.perf_counter()
    loader = system_actor("system:bench")
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not a secret
    kinds = question_kinds(questions)
    with transaction(factory) as session:
        seed_countries(session)
        outcome = import_definition(session, read_markdown(form_markdown(questions), source="b"))
        version = publish_version(session, "bench_export", outcome.version.version)
        countries = list(session.query(Country).order_by(Country.iso2))
        centres = [
            Centre(
                name=f"Bench centre {i}",
                country_id=countries[i % len(countries)].id,
                latitude=40 + (i % 20),
                longitude=(i % 30) - 5,
                is_synthetic=True,
            )
            for i in range(min(CENTRES, responses))
        ]
        session.add_all(centres)
        session.flush()
        waves = -(-responses // len(centres))
        campaigns = []
        for wave in range(waves):
            campaign = create_synthetic_campaign(
                session,
                loader,
                slug=f"bench-{wave}",
                name=f"Bench {wave}",
                versions=[version],
                centres=centres,
                request_id=None,
            )
            campaigns.append(open_campaign(session, loader, campaign, request_id=None))
        form = compile_definition(version.definition)
        pending_responses: list[dict[str, Any]] = []
        for n in range(responses):
            campaign, centre = campaigns[n // len(centres)], centres[n % len(centres)]
            values = random_answers(rng, kinds)
            if insert == "service":
                submit(
                    session,
                    submission_uuid=str(uuid.uuid4()),
                    campaign=campaign,
                    centre=centre,
                    version=version,
                    answers=values,
                    now=NOW,
                    actor="bench",
                )
                if n % 500 == 499:
                    session.flush()
                    session.expunge_all()
                    session.add_all([version, *campaigns, *centres])
                continue
            validated = validate_answers(form, values)
            assert validated.ok, validated.errors[:3]
            pending_responses.append(
                {
                    "submission_uuid": str(uuid.uuid4()),
                    "campaign_id": campaign.id,
                    "centre_id": centre.id,
                    "questionnaire_id": version.questionnaire_id,
                    "questionnaire_version_id": version.id,
                    "status": ResponseStatus.SUBMITTED,
                    "review_state": ReviewState.RECEIVED,
                    "answers": validated.answers,
                    "answers_hash": answers_hash(validated.answers),
                    "version": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "submitted_at": NOW,
                }
            )
            if len(pending_responses) == 1000 or n == responses - 1:
                ids = session.scalars(
                    sql_insert(Response).returning(Response.id), pending_responses
                ).all()
                session.execute(
                    sql_insert(ResponseVersion),
                    [
                        {
                            "response_id": rid,
                            "number": 1,
                            "status": ResponseStatus.SUBMITTED,
                            "answers": row["answers"],
                            "answers_hash": row["answers_hash"],
                            "actor": "bench",
                            "created_at": NOW,
                        }
                        for rid, row in zip(ids, pending_responses, strict=True)
                    ],
                )
                pending_responses.clear()
    engine.dispose()
    return {"seconds": round(time.perf_counter() - started, 1), "insert": insert}


# --- one measurement per process ----------------------------------------------------------------


def measure(url: str, mode: str) -> dict[str, Any]:
    import pandas as pd
    from sqlalchemy import select

    from surveys.db import make_engine, make_session_factory
    from surveys.exports import service
    from surveys.exports.schemas import ExportFilter, ExportFormat, ExportOptions
    from surveys.policy import system_actor
    from surveys.registry.models import Centre, Country
    from surveys.responses.models import FINAL_STATUSES, Response

    engine = make_engine(url)
    factory = make_session_factory(engine)
    with engine.connect() as connection:  # open the pool before the baseline
        connection.exec_driver_sql("SELECT 1")
    out = tempfile.NamedTemporaryFile(prefix="export-bench-", delete=False)  # noqa: SIM115
    out.close()
    baseline_kb = status_kb("VmRSS")
    started = time.perf_counter()
    rows = 0
    if mode.startswith("ours"):
        fmt = ExportFormat.CSV if mode == "ours-csv" else ExportFormat.CSV_LONG
        with factory() as session:
            job = service.prepare_export(
                session,
                system_actor(),
                format=fmt,
                filters=ExportFilter(),
                options=ExportOptions(plain=fmt is ExportFormat.CSV_LONG),
                pseudonymised=True,
                pseudonym_secret="bench-" + "x" * 32,
            )
        with open(out.name, "wb") as sink:
            for chunk in service.stream_export(factory, job):
                sink.write(chunk)
        assert job.manifest is not None
        rows = sum(t["rows"] for t in job.manifest["tables"])
    else:
        query = (
            select(
                Response.submission_uuid,
                Centre.public_id,
                Country.iso2,
                Response.status,
                Response.submitted_at,
                Response.answers,
            )
            .join(Centre, Centre.id == Response.centre_id)
            .join(Country, Country.id == Centre.country_id)
            .where(Response.status.in_(FINAL_STATUSES))
            .order_by(Response.questionnaire_id, Response.id)
        )
        with engine.connect() as connection:
            frame = pd.read_sql(query, connection)
        answers = pd.DataFrame.from_records(frame.pop("answers").tolist())
        wide = pd.concat([frame, answers], axis=1)
        wide.to_csv(out.name, index=False)
        rows = len(wide)
    seconds = time.perf_counter() - started
    peak_kb = status_kb("VmHWM")
    size = Path(out.name).stat().st_size
    os.unlink(out.name)
    engine.dispose()
    return {
        "mode": mode,
        "seconds": round(seconds, 3),
        "rss_baseline_mb": round(baseline_kb / 1024, 1),
        "rss_peak_mb": round(peak_kb / 1024, 1),
        "growth_mb": round((peak_kb - baseline_kb) / 1024, 1),
        "rows": rows,
        "bytes": size,
    }


def run_child(url: str, mode: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--measure", mode, "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=150)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--insert", choices=("service", "bulk"), default="service")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.database_url, args.measure)))
        return 0

    with tempfile.TemporaryDirectory(prefix="export-bench-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        print(f"building {args.responses} responses x {args.questions} questions ({args.insert})")
        built = build(url, args.responses, args.questions, args.insert)
        print(f"  built in {built['seconds']} s")
        runs: dict[str, list[dict[str, Any]]] = {"ours-csv": [], "ours-csv-long": [], "pandas": []}
        for _ in range(args.repeat):
            for mode in runs:  # side by side, alternating, each in a fresh process
                runs[mode].append(run_child(url, mode))
                print(f"  {mode:14} {runs[mode][-1]}")
    best = {mode: min(r["seconds"] for r in results) for mode, results in runs.items()}
    growth = {mode: max(r["growth_mb"] for r in results) for mode, results in runs.items()}
    ratio = best["ours-csv"] / best["pandas"]
    ratio_long = best["ours-csv-long"] / best["pandas"]
    summary = {
        "responses": args.responses,
        "questions": args.questions,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "data": built,
        "runs": runs,
        "seconds": best,
        "growth_mb": growth,
        "ratio_ours_csv_to_pandas": round(ratio, 2),
        "ratio_ours_csv_long_to_pandas": round(ratio_long, 2),
        "targets": {"growth_mb": TARGET_GROWTH_MB, "ratio": TARGET_RATIO},
        "met": growth["ours-csv"] < TARGET_GROWTH_MB
        and growth["ours-csv-long"] < TARGET_GROWTH_MB
        and ratio <= TARGET_RATIO,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "median_seconds": {
            m: statistics.median(r["seconds"] for r in rs) for m, rs in runs.items()
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"ours csv (zip) {best['ours-csv']:.2f} s, +{growth['ours-csv']} MB | "
        f"ours csv-long {best['ours-csv-long']:.2f} s, +{growth['ours-csv-long']} MB | "
        f"pandas {best['pandas']:.2f} s, +{growth['pandas']} MB | "
        f"ratio {ratio:.2f} (long {ratio_long:.2f}); targets +{TARGET_GROWTH_MB} MB, "
        f"<= {TARGET_RATIO}x: {'met' if summary['met'] else 'NOT met'}"
    )
    return 0 if summary["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
