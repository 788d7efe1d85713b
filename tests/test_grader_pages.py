"""The grader's HTML pages: ``<id>/feedback.html`` beside ``feedback.md`` and the class's
``report.html``, from one small grading run (a correct notebook, a script with a transposed
weight gradient and an unstable softmax, and a hostile notebook whose file name, exception
class name, exception message and dropped cell carry HTML and script). Then, in headless
Chromium (Debian's chromium + chromium-driver, through selenium): the tables and pictures are
there, the table sorts, and the console has no error (an escaping slip would run script or trip
the pages' Content-Security-Policy, which the console reports)."""
from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

import pytest

from conformance.components import COMPONENTS
from graders import exports, grade
from graders.grade import Options, grade_all

REPO = Path(__file__).resolve().parents[1]
CANONICAL = (REPO / "tests" / "impls" / "canonical.py").read_text()
HOSTILE_ID = "mallory<i>x"
PAYLOADS = ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<b onmouseover=alert(3)>",
            "<script>alert(4)</script>")
REQUIRE_BROWSER_ENV = "BACKPROP_KIT_REQUIRE_BROWSER"  # CI: a missing Chromium fails instead of skipping
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def _hostile_notebook() -> dict:
    import nbformat

    code = CANONICAL.replace('self.grads["W"] = dy.T @ self.x', f'raise StudentError("{PAYLOADS[0]}{PAYLOADS[1]} bad")')
    code = code.replace("class ReLU(Module):", (
        "class Renamed(type):\n    def __new__(mcs, name, bases, ns):\n"
        f"        return super().__new__(mcs, '{PAYLOADS[2]}' + name + '</b>', bases, ns)\n\n\n"
        "class StudentError(Exception, metaclass=Renamed):\n    pass\n\n\n"
        "class ReLU(Module, metaclass=Renamed):"))
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code),
                                           nbformat.v4.new_code_cell(f'print("{PAYLOADS[3]}")')])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import nbformat

    root = tmp_path_factory.mktemp("pages")
    subs = root / "submissions"
    subs.mkdir()
    shutil.copy(REPO / "examples" / "submissions" / "ada.ipynb", subs / "ada.ipynb")
    buggy = CANONICAL.replace('self.grads["W"] = dy.T @ self.x',
                              'self.grads["W"] = (dy.T @ self.x).T.reshape(self.params["W"].shape)')
    (subs / "tess.py").write_text(buggy.replace("np.exp(x - x.max(axis=1, keepdims=True))", "np.exp(x)"))
    nbformat.write(_hostile_notebook(), str(subs / f"{HOSTILE_ID}.ipynb"))
    records, summary = grade_all(Options(subs, root / "out", jobs=2, timeout=10))
    return {"out": root / "out", "records": {r["submission"]: r for r in records}, "summary": summary}


def _page(graded, name: str) -> str:
    return (graded["out"] / name).read_text(encoding="utf-8")


def test_every_submission_gets_a_feedback_page_and_the_class_a_report(graded):
    report = _page(graded, "report.html")
    for sub in graded["records"]:
        page = _page(graded, f"{sub}/feedback.html")
        assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
        assert page.count('<tr id="c-') == len(COMPONENTS)
    links = re.findall(r'<a href="([^"]+)/feedback.html">', report)
    assert sorted(set(links)) == sorted(["ada", "mallory%3Ci%3Ex", "tess"])
    assert re.search(r'<img src="data:image/png;base64,[^"]+" alt="pass rate per component">', report)
    assert re.search(r'<img src="data:image/png;base64,[^"]+" alt="score histogram">', report)
    # the most common diagnoses, each with the submissions that have it
    assert re.search(r"<td>linear: transposed_gradient</td>\s*<td><a href=\"tess/feedback.html\">tess</a></td>", report)
    assert not re.search(r"https?://", report.replace("http://www.w3.org", ""))  # nothing to fetch


def test_pictures_show_the_transposed_gradient_the_overflow_and_the_training_curve(graded):
    tess = _page(graded, "tess/feedback.html")
    linear = re.search(r'<tr id="c-linear">(.*?)</tr>', tess, flags=re.S).group(1)
    assert "transposed_gradient" in linear and 'alt="heatmaps of the expected values, yours and their difference"' in linear
    softmax = re.search(r'<tr id="c-softmax">(.*?)</tr>', tess, flags=re.S).group(1)
    assert 'alt="the inputs, those giving NaN or inf circled"' in softmax
    ada = _page(graded, "ada/feedback.html")
    xor = re.search(r'<tr id="c-training_xor">(.*?)</tr>', ada, flags=re.S).group(1)
    assert 'alt="loss and validation accuracy per epoch against the threshold"' in xor
    record = graded["records"]["ada"]
    plot = next(c["plot"] for c in record["components"]["training_xor"]["checks"] if c.get("plot"))
    assert len(plot["accuracies"]) == len(plot["losses"]) and plot["accuracies"][-1] == plot["accuracy"]


def test_student_strings_are_text_never_markup(graded):
    record = graded["records"][HOSTILE_ID]
    assert record["components"]["linear"]["verdict"] == "error"
    for name in ("report.html", f"{HOSTILE_ID}/feedback.html"):
        page = _page(graded, name)
        for payload in PAYLOADS:
            assert payload not in page, (name, payload)
        assert "&lt;b onmouseover=alert(3)&gt;StudentError" in page  # the exception class's own name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h1>Feedback for mallory&lt;i&gt;x</h1>" in _page(graded, f"{HOSTILE_ID}/feedback.html")
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in _page(graded, f"{HOSTILE_ID}/feedback.html")  # the dropped cell


def test_scores_are_rounded_for_people_and_kept_whole_in_the_csv(graded, tmp_path):
    record = dict(graded["records"]["tess"], submission="tess")
    record["components"] = {c: dict(e) for c, e in record["components"].items()}
    record["components"]["linear"].update(score=11.538461538461538, points=15.0)
    record["score"] = 64.0385
    assert "Score: **64.04 / 100**" in exports.feedback_md(record)
    assert "| linear | fail | 11.54 / 15 |" in exports.feedback_md(record)
    from graders import pages

    html = pages.feedback_html(record)
    assert "<strong>64.04 / 100</strong>" in html and ">11.54 / 15<" in html
    assert "64.04 / 100" in pages.class_report_html([record], exports.summary([record]))
    row = next(csv.DictReader(exports.gradebook_csv([record]).splitlines()))
    assert (row["score"], row["max_score"]) == ("64.0385", "100")


# --- in a real browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = "Chromium is not installed here; fix: apt-get install -y chromium chromium-driver"
        if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_BROWSER_ENV}=1 turns this skip into a failure)", pytrace=False)
        pytest.skip(reason)
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1200"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _open(browser, path: Path, shots: Path) -> list[dict]:
    """Load ``path``, save a screenshot, return the console entries (errors and warnings)."""
    browser.get(path.resolve().as_uri())
    browser.save_screenshot(str(shots / (path.parent.name + "-" + path.stem + ".png")))
    return [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def _screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: $BACKPROP_KIT_SCREENSHOTS (to look at them) or the test's tmp folder."""
    folder = Path(os.environ.get("BACKPROP_KIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_class_report_in_chromium(graded, browser, tmp_path):
    from selenium.webdriver.common.by import By

    console = _open(browser, graded["out"] / "report.html", _screenshots(tmp_path))
    assert console == []
    rows = browser.find_elements(By.CSS_SELECTOR, "table.gradebook tbody tr")
    assert len(rows) == 3
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 2 and all(browser.execute_script("return arguments[0].naturalWidth", i) > 100 for i in images)
    # the sorter (the page's one script) runs: score ascending puts the hostile submission's 40 first
    browser.find_element(By.XPATH, "//table[contains(@class,'gradebook')]//th[3]/button").click()
    first = browser.find_element(By.CSS_SELECTOR, "table.gradebook tbody tr td a").text
    scores = sorted(graded["records"].values(), key=lambda r: r["score"])
    assert first == scores[0]["submission"]
    assert browser.get_log("browser") == []


def test_feedback_page_in_chromium(graded, browser, tmp_path):
    from selenium.webdriver.common.by import By

    for sub in ("tess", HOSTILE_ID):
        console = _open(browser, graded["out"] / sub / "feedback.html", _screenshots(tmp_path))
        assert console == [], (sub, console)
        assert len(browser.find_elements(By.CSS_SELECTOR, "table.components tbody tr")) == len(COMPONENTS)
    # the hostile page shows its payloads as text: nothing was turned into an element
    assert browser.find_elements(By.CSS_SELECTOR, "td b, td img, body script") == []
    assert "<script>alert(1)</script>" in browser.find_element(By.ID, "c-linear").text
    browser.get((graded["out"] / "tess" / "feedback.html").resolve().as_uri())
    for details in browser.find_elements(By.TAG_NAME, "details"):
        browser.execute_script("arguments[0].open = true", details)
    pictures = browser.find_elements(By.CSS_SELECTOR, "table.components img")
    assert len(pictures) >= 3 and all(browser.execute_script("return arguments[0].naturalWidth", p) > 100
                                      for p in pictures)
    browser.save_screenshot(str(_screenshots(tmp_path) / "tess-feedback-open.png"))
    assert browser.get_log("browser") == []
