"""``pytest conformance --impl X --report-html PATH``: the student's own page, written by the
plugin from the same report as ``--report`` (run as a student runs it, in a fresh process)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUGGY = ((REPO / "tests" / "impls" / "canonical.py").read_text()
         .replace('self.grads["W"] = dy.T @ self.x', 'self.grads["W"] = (dy.T @ self.x).T.reshape(self.params["W"].shape)')
         .replace("np.exp(x - x.max(axis=1, keepdims=True))", "np.exp(x)"))


def test_report_html_is_the_report_as_a_page_with_pictures(tmp_path):
    impl = tmp_path / "my_network.py"
    impl.write_text(BUGGY)
    page, data = tmp_path / "report.html", tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "pytest", "conformance/test_linear.py", "conformance/test_softmax.py",
                          "conformance/test_relu.py", "--impl", str(impl), "--report", str(data),
                          "--report-html", str(page), "-p", "no:cacheprovider", "-q"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert f"backprop-kit: HTML report written to {page}" in run.stdout, run.stdout[-2000:]
    html, report = page.read_text(encoding="utf-8"), json.loads(data.read_text())
    rows = dict(re.findall(r'<tr id="c-([a-z_0-9]+)">(.*?)</tr>', html, flags=re.S))
    assert list(rows) == list(report["components"])  # every component, in SPEC order
    for comp, entry in report["components"].items():
        assert f'class="v v-{entry["verdict"]}"' in rows[comp]
    assert report["components"]["linear"]["verdict"] == "fail" and "transposed_gradient" in rows["linear"]
    assert 'alt="heatmaps of the expected values, yours and their difference"' in rows["linear"]
    assert 'alt="the inputs, those giving NaN or inf circled"' in rows["softmax"]
    assert "<img" not in rows["relu"]  # a passing component shows no evidence
    # the plot data is in the JSON report too, whole, and never in the terminal's text
    plot = next(c["plot"] for c in report["components"]["linear"]["checks"] if c.get("plot"))
    assert plot["kind"] == "arrays" and len(plot["expected"]) == 3 and len(plot["expected"][0]) == 5
    assert '"plot"' not in run.stdout and "plot:" not in run.stdout
