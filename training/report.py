"""The final table, in the reference's format, with the baseline beside the model."""


def _cell(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def results_table(metrics: dict) -> str:
    model = metrics["model"]["calibrated"]
    baseline = (metrics.get("baseline") or {}).get("calibrated")
    header = f"{'label':<14} {'F1':>6} {'thresh':>6} {'AUC':>6} {'pos':>5}"
    if baseline:
        header += f"   | {'TF-IDF F1':>9} {'thresh':>6} {'AUC':>6}"
    lines = [header, "-" * len(header)]
    for name, row in model["labels"].items():
        if not row["evaluated"]:
            line = f"{name:<14} {'not evaluated: no known positives':>30}"
        else:
            line = (
                f"{name:<14} {_cell(row['f1']):>6} {_cell(row['threshold'], 2):>6} "
                f"{_cell(row['roc_auc']):>6} {row['positives']:>5}"
            )
            if baseline:
                other = baseline["labels"][name]
                line += f"   | {_cell(other['f1']):>9} {_cell(other['threshold'], 2):>6} {_cell(other['roc_auc']):>6}"
        lines.append(line)
    lines.append("-" * len(header))
    summary = f"Macro-F1 {_cell(model['macro_f1'], 4)}  Micro-F1 {_cell(model['micro_f1'], 4)}"
    if baseline:
        summary += f"   | TF-IDF Macro-F1 {_cell(baseline['macro_f1'], 4)}  Micro-F1 {_cell(baseline['micro_f1'], 4)}"
    lines.append(summary)
    at_half = metrics["model"]["at_0_5"]
    lines.append(
        f"(at threshold 0.5: Macro-F1 {_cell(at_half['macro_f1'], 4)}  Micro-F1 {_cell(at_half['micro_f1'], 4)})"
    )
    return "\n".join(lines)
