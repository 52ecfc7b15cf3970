"""``vigil model``: train, import, evaluate, list and verify text classifiers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vigil.classifiers import registry
from vigil.classifiers.base import ClassifierError
from vigil.classifiers.data import LabelledSet, read_labelled
from vigil.classifiers.lexical import LexicalParams
from vigil.classifiers.torch_runtime import DEFAULT_MAX_LENGTH
from vigil.cli_support import console, err_console

app = typer.Typer(help="Text classifiers: train, evaluate, list, verify.", no_args_is_help=True)

DataFile = Annotated[
    Path, typer.Argument(help="Labelled JSONL or CSV.", exists=True, dir_okay=False)
]


def _fail(exc: ClassifierError) -> typer.Exit:
    err_console.print(f"[red]error:[/] {escape(str(exc))}")
    return typer.Exit(2)


def _report_problems(path: Path, data: LabelledSet, limit: int = 20) -> None:
    for problem in data.problems[:limit]:
        # One line per problem, never wrapped: FILE:LINE is for editors and grep.
        err_console.print(f"[yellow]skipped[/] {escape(problem.render(path))}", soft_wrap=True)
    if len(data.problems) > limit:
        err_console.print(f"[yellow]skipped[/] {len(data.problems) - limit:,} more bad rows")


def _labels(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


@app.command("train")
def train_cmd(
    data: DataFile,
    labels: Annotated[str, typer.Option(help="Label columns, comma-separated.")],
    out: Annotated[Path, typer.Option(help="Directory to write the model to.")],
    name: Annotated[str, typer.Option(help="Model name, as policies will refer to it.")],
    version: Annotated[str, typer.Option(help="Model version, recorded on every signal.")],
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    min_df: Annotated[int, typer.Option(help="Keep n-grams seen in at least this many rows.")] = 3,
    max_features: Annotated[int, typer.Option(help="Keep at most this many n-grams.")] = 200_000,
    c: Annotated[float, typer.Option(help="Inverse regularisation strength.")] = 4.0,
) -> None:
    """Train the lexical model (hashed word and character n-grams, one logistic head per label)."""
    from vigil.classifiers.training import train_file

    params = LexicalParams(min_df=min_df, max_features=max_features, c=c)
    try:
        result = train_file(
            data,
            _labels(labels),
            out,
            name=name,
            version=version,
            text_column=text_column,
            params=params,
        )
    except ClassifierError as exc:
        raise _fail(exc) from exc
    _report_problems(data, result.data)
    table = Table("label", "rows", "positive", title=f"{name} {version}")
    for label, n in result.data.counts().items():
        table.add_row(label, f"{n['known']:,}", f"{n['positive']:,}")
    console.print(table)
    size = sum((out / f).stat().st_size for f in result.manifest.files)
    console.print(
        f"[green]ok:[/] model written to {escape(str(out))} ({size / 1e6:.1f} MB, "
        f"manifest SHA-256 {result.manifest.sha256})"
    )


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


@app.command("eval")
def eval_cmd(
    model: Annotated[str, typer.Argument(help="Shipped model name, or a model directory.")],
    data: DataFile,
    labels: Annotated[str | None, typer.Option(help="Labels to score (default: all).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for eval.json and pr.png.")] = None,
    threshold: Annotated[float, typer.Option(min=0, max=1, help="Score for P/R/F1.")] = 0.5,
    target_precision: Annotated[
        float, typer.Option(min=0, max=1, help="Find the lowest threshold with this precision.")
    ] = 0.9,
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
) -> None:
    """Precision, recall, F1, ROC-AUC, PR-AUC and recall at a review budget, per label."""
    from vigil.classifiers.evaluation import evaluate, plot_pr, policy_snippet

    try:
        clf = registry.load(registry.resolve(model))
        wanted = _labels(labels) if labels else list(clf.labels)
        dataset = read_labelled(data, wanted, text_column)
        report, curves = evaluate(
            clf, dataset, threshold=threshold, target_precision=target_precision
        )
    except ClassifierError as exc:
        raise _fail(exc) from exc
    _report_problems(data, dataset)
    report["labels"] = {k: v for k, v in report["labels"].items() if v["rows"]}
    report["data_file"] = str(data)
    folder = out or Path("out") / "eval" / clf.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot_pr(curves, f"{clf.name} {clf.version} on {data.name}", folder / "pr.png")
    columns = ["label", "rows", "pos", "P", "R", "F1", "ROC-AUC", "PR-AUC", "R@1%", "R@5%"]
    table = Table(
        *columns, f"thr@P{target_precision:g}", "R@thr", title=f"{clf.name} {clf.version}"
    )
    for label, m in report["labels"].items():
        table.add_row(
            label,
            f"{m['rows']:,}",
            f"{m['positives']:,}",
            *(
                _fmt(m[k])
                for k in (
                    "precision",
                    "recall",
                    "f1",
                    "roc_auc",
                    "pr_auc",
                    "recall_at_top_1pct",
                    "recall_at_top_5pct",
                    "threshold_for_target",
                    "recall_at_target",
                )
            ),
        )
    console.print(table)
    console.print(
        f"P, R and F1 at score {threshold:g}. Written: {folder}/eval.json, {folder}/pr.png"
    )
    for label, m in report["labels"].items():
        if m["threshold_for_target"] is None:
            console.print(f"{label}: precision {target_precision:g} is not reached on this data")
            continue
        console.print(
            f"\n# {label}: precision >= {target_precision:g} from min_score "
            f"{m['threshold_for_target']:g} (recall {m['recall_at_target']:.3f} on this data)"
        )
        console.print(escape(policy_snippet(clf.name, label, m["threshold_for_target"])), end="")


@app.command("list")
def list_cmd() -> None:
    """The models shipped with Vigil."""
    table = Table("name", "kind", "version", "labels", "manifest SHA-256")
    for name in registry.shipped_names():
        m = registry.describe(registry.locate(name))
        table.add_row(m.name, m.kind, m.version, ", ".join(m.labels), m.sha256)
    console.print(table)


@app.command("verify")
def verify_cmd(
    model: Annotated[str, typer.Argument(help="Shipped model name, or a model directory.")],
) -> None:
    """Check every file of a model against its manifest and load it."""
    try:
        clf = registry.load(registry.resolve(model))
    except ClassifierError as exc:
        raise _fail(exc) from exc
    console.print(f"[green]ok:[/] {clf.name} {clf.version} ({', '.join(clf.labels)})")


@app.command("import")
def import_cmd(
    source: Annotated[
        Path,
        typer.Argument(
            help="Local Hugging Face model or ONNX export.", exists=True, file_okay=False
        ),
    ],
    out: Annotated[Path, typer.Option(help="New directory to copy the model into.")],
    name: Annotated[str, typer.Option(help="Model name, as policies will refer to it.")],
    version: Annotated[str, typer.Option(help="Model version, recorded on every signal.")],
    kind: Annotated[str, typer.Option(help="transformers (safetensors) or onnx (model.onnx).")],
    label: Annotated[
        list[str],
        typer.Option(help="VIGIL_LABEL=MODEL_LABEL (id2label name or index); repeat per label."),
    ],
    activation: Annotated[
        str | None,
        typer.Option(help="sigmoid (multi-label) or softmax; default from the model config."),
    ] = None,
    max_length: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"Tokens kept per text (default {DEFAULT_MAX_LENGTH}, or the model's limit).",
        ),
    ] = None,
) -> None:
    """Copy a local sequence-classification model into OUT and hash it with its label mapping."""
    from vigil.classifiers.hf_import import import_model, parse_mapping

    try:
        result = import_model(
            source,
            out,
            name=name,
            version=version,
            kind=kind,
            mapping=parse_mapping(label),
            activation=activation,
            max_length=max_length,
        )
    except ClassifierError as exc:
        raise _fail(exc) from exc
    m, head = result.manifest, result.head
    for filename, reason in result.skipped.items():
        err_console.print(f"[yellow]not copied[/] {escape(filename)}: {reason}")
    table = Table("label", "model output", title=f"{m.name} {m.version} ({m.kind})")
    for vigil_label, index in zip(m.labels, head.outputs, strict=True):
        table.add_row(vigil_label, f"{index}: {escape(head.model_labels[index])}")
    console.print(table)
    size = sum((out / f).stat().st_size for f in m.files)
    console.print(
        f"{head.activation} over {len(head.model_labels)} outputs, {head.max_length} tokens "
        f"per text\n[green]ok:[/] model written to {escape(str(out))} ({size / 1e6:.1f} MB, "
        f"manifest SHA-256 {m.sha256})"
    )
    snippet = f"classifiers:\n  {m.name}:\n    kind: {m.kind}\n    path: {out}\n"
    console.print(escape(snippet + f'    version: "{m.version}"\n'), end="")
