// dlgrade: the few scripts of the web application. Pages work without them (forms post,
// links navigate); they add status polling, table sorting and hand grading as you go.
"use strict";

function csrf() {
  const field = document.querySelector('input[name="csrf"]');
  return field ? field.value : "";
}

// An attempt waiting or running: ask its state every 1.5 s, reload once graded.
function pollAttempt(element) {
  const tick = async () => {
    try {
      const response = await fetch(element.dataset.poll, { headers: { Accept: "application/json" } });
      const data = await response.json();
      if (data.state === "done") { location.reload(); return; }
      element.textContent = data.state === "queued"
        ? element.dataset.queued.replace("{ahead}", data.ahead)
        : element.dataset.running;
    } catch (error) { /* the server restarts: keep asking */ }
    setTimeout(tick, 1500);
  };
  setTimeout(tick, 1500);
}

// A grading run on an LMS archive: its progress, then the class page again.
function pollRun(element) {
  const tick = async () => {
    const data = await (await fetch(element.dataset.run, { headers: { Accept: "application/json" } })).json();
    if (data.state === "running") {
      element.textContent = element.dataset.progress.replace("{done}", data.done).replace("{total}", data.total ?? "…");
      setTimeout(tick, 1000);
    } else {
      location.reload();
    }
  };
  setTimeout(tick, 1000);
}

// Sortable tables: click a column's header; numbers sort as numbers, words in the page's
// language's order (Émile before Zoé, accents and case aside).
function sortable(table) {
  const words = new Intl.Collator(document.documentElement.lang || undefined, { sensitivity: "base", numeric: true });
  table.querySelectorAll("th").forEach((header, column) => {
    header.tabIndex = 0;
    header.setAttribute("role", "button");
    const sort = () => {
      const body = table.tBodies[0];
      const ascending = header.dataset.order !== "asc";
      table.querySelectorAll("th").forEach((h) => { delete h.dataset.order; h.removeAttribute("aria-sort"); });
      header.dataset.order = ascending ? "asc" : "desc";
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const key = (row) => {
        const text = row.cells[column].textContent.trim();
        const number = parseFloat(text.replace(",", ".").replace(/\s/g, ""));
        return Number.isNaN(number) ? text : number;
      };
      const compare = (x, y) => typeof x === "string" ? words.compare(x, y) : x < y ? -1 : x > y ? 1 : 0;
      const rows = [...body.rows].sort((a, b) => {
        const x = key(a), y = key(b);
        const order = typeof x === typeof y ? compare(x, y) : typeof x === "number" ? -1 : 1;
        return ascending ? order : -order;
      });
      rows.forEach((row) => body.appendChild(row));
    };
    header.addEventListener("click", sort);
    header.addEventListener("keydown", (event) => { if (event.key === "Enter") sort(); });
  });
}

// Hand grading: saved as you go (points or comment changed), j / k to move, Ctrl+Enter to
// save and go to the next student. Points take a decimal comma or point. What is typed and
// not saved says so, and the page is not left until it is saved or its error is shown.
function handGrading(form) {
  const state = document.getElementById("save-state");
  const points = form.elements.points;
  let unsaved = false;
  const show = (ok, text) => { state.textContent = text; state.className = ok ? "ok" : "ko"; };
  const checkPoints = () => {
    const typed = points.value.trim().replace(",", ".");
    const value = Number(typed);
    const fits = /^\d+(\.\d*)?$|^\.\d+$/.test(typed) && value <= Number(points.dataset.max);
    points.setCustomValidity(fits ? "" : state.dataset.range);
    points.setAttribute("aria-invalid", String(!fits));
  };
  const save = async () => {
    checkPoints();
    if (!form.reportValidity()) { show(false, state.dataset.invalid); return false; }
    let ok = false;
    try {
      const response = await fetch(form.action, {
        method: "POST", body: new FormData(form),
        headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
      });
      ok = response.ok && (await response.json()).saved;
    } catch (error) { /* the server cannot be reached: said below */ }
    show(ok, ok ? state.dataset.saved : state.dataset.error);
    unsaved = !ok;
    return ok;
  };
  const leave = async (href) => { if (!unsaved || await save()) location.href = href; };
  form.addEventListener("input", () => {
    unsaved = true;
    points.setCustomValidity("");
    show(false, state.dataset.unsaved);
  });
  form.addEventListener("change", save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await save() && form.dataset.next) location.href = form.dataset.next;
  });
  document.querySelectorAll("a[data-key]").forEach((link) => link.addEventListener("click", (event) => {
    event.preventDefault();
    leave(link.href);
  }));
  window.addEventListener("beforeunload", (event) => { if (unsaved) event.preventDefault(); });
  document.addEventListener("keydown", async (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    const link = document.querySelector(`[data-key="${event.key}"]`);
    if (link) leave(link.href);
  });
}

// LaTeX of answers and rubrics (kept as written in .math spans by the server): drawn by
// KaTeX where the page loads it; KaTeX's own rules forbid links and HTML in formulas. A
// size a student writes (\rule{1e5em}{1e5em}) is capped, as are macro expansions: no
// answer pushes the grading form out of reach or stalls the page.
const MATH = { throwOnError: false, trust: false, maxSize: 10, maxExpand: 200 };
function drawMath() {
  if (!window.katex) return;
  document.querySelectorAll(".math").forEach((span) => {
    const display = span.textContent.startsWith("$$");
    const source = span.textContent.slice(display ? 2 : 1, display ? -2 : -1);
    window.katex.render(source, span, { ...MATH, displayMode: display });
    span.classList.add("drawn");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  drawMath();
  document.querySelectorAll("[data-poll]").forEach(pollAttempt);
  document.querySelectorAll("[data-run]").forEach(pollRun);
  document.querySelectorAll("table.sortable").forEach(sortable);
  const form = document.getElementById("hand-grade");
  if (form) handGrading(form);
  const refusal = document.getElementById("form-error");  // beside its form, far down the page
  if (refusal) refusal.focus();
});
