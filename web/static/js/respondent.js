// The respondent form, improved when JavaScript runs: live relevance and calculations from the
// same expression tree the server evaluates, matrix totals, repeat rows, and autosave with a
// visible "saved at". Without JavaScript the form still works: the server applies relevance
// when the draft is saved.
import { evaluate, truthy } from "./expressions.js";

const form = document.getElementById("survey-form");
const logicNode = document.getElementById("form-logic");
if (form && logicNode) {
  const logic = JSON.parse(logicNode.textContent);
  const status = document.getElementById("save-status");
  const versionInput = form.querySelector('input[name="expected_version"]');
  const csrf = form.querySelector('input[name="csrf_token"]').value;
  let dirty = false;
  let saving = false;

  function fieldValue(container, name) {
    const inputs = container.querySelectorAll(`[name="${CSS.escape(name)}"]`);
    if (!inputs.length) return "";
    const first = inputs[0];
    if (first.type === "checkbox" && (logic[first.closest("[data-question]")?.dataset.question] || {}).kind === "select_multiple") {
      return Array.from(inputs).filter((i) => i.checked).map((i) => i.value);
    }
    if (first.type === "radio" || first.type === "checkbox") {
      const checked = Array.from(inputs).find((i) => i.checked);
      return checked ? checked.value : "";
    }
    return first.value;
  }

  function numberOrText(name, value) {
    const kind = (logic[name] || {}).kind;
    if ((kind === "integer" || kind === "decimal" || kind === "range") && value !== "") {
      const n = Number(String(value).replace(",", "."));
      return Number.isFinite(n) ? n : value;
    }
    return value;
  }

  function rowAnswers(row) {
    const answers = {};
    row.querySelectorAll("[data-field]").forEach((node) => {
      const name = node.dataset.question;
      answers[name] = numberOrText(name, fieldValue(node, node.dataset.field));
    });
    return answers;
  }

  function collect() {
    const answers = {};
    form.querySelectorAll("[data-field]").forEach((node) => {
      if (node.closest(".repeat-row")) return;
      const name = node.dataset.question;
      answers[name] = numberOrText(name, fieldValue(node, node.dataset.field));
    });
    form.querySelectorAll("input.matrix-cell").forEach((input) => {
      const name = input.name;
      answers[name] = numberOrText(name, input.value);
    });
    form.querySelectorAll("[data-repeat]").forEach((fieldset) => {
      const name = fieldset.dataset.question;
      const rows = Array.from(fieldset.querySelectorAll(".repeat-rows > .repeat-row")).map(rowAnswers);
      answers[name] = rows.map(() => "row");
      rows.forEach((row) => {
        Object.entries(row).forEach(([child, value]) => {
          (answers[child] = Array.isArray(answers[child]) ? answers[child] : []).push(value);
        });
      });
    });
    return answers;
  }

  function applyCalculations(answers) {
    Object.entries(logic).forEach(([name, entry]) => {
      if (entry.calculation && !entry.repeat) {
        const value = evaluate(entry.calculation, answers, "", new Date().toISOString().slice(0, 10));
        answers[name] = typeof value === "number" && Number.isNaN(value) ? "" : value;
      }
    });
  }

  function applyRelevance() {
    const answers = collect();
    applyCalculations(answers);
    form.querySelectorAll("[data-question]").forEach((node) => {
      const entry = logic[node.dataset.question];
      if (!entry || !entry.relevant) return;
      const row = node.closest(".repeat-row");
      const scope = row ? Object.assign({}, answers, rowAnswers(row)) : answers;
      const relevant = truthy(evaluate(entry.relevant, scope, "", ""));
      node.hidden = !relevant;
    });
    form.querySelectorAll("section.group").forEach((group) => {
      const entry = logic[group.dataset.question] || {};
      const ownRelevance = entry.relevant ? truthy(evaluate(entry.relevant, answers, "", "")) : true;
      const questions = Array.from(group.querySelectorAll(".question, .repeat"));
      const anyVisible = questions.some((q) => !q.hidden && !q.closest("[hidden]:not(section.group)"));
      group.hidden = !ownRelevance || (questions.length > 0 && !anyVisible);
    });
    updateMatrixTotals();
    form.querySelectorAll("[data-label-template]").forEach((node) => {
      node.textContent = node.dataset.labelTemplate.replace(/\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g,
        (_, name) => {
          const value = answers[name];
          return value === undefined || value === null || Array.isArray(value) ? "" : String(value);
        });
    });
  }

  function updateMatrixTotals() {
    form.querySelectorAll("table[data-matrix]").forEach((table) => {
      const columnTotals = [];
      let grand = 0;
      let any = false;
      table.querySelectorAll("tbody tr").forEach((tr) => {
        let rowTotal = 0;
        let rowAny = false;
        tr.querySelectorAll("input.matrix-cell").forEach((input, index) => {
          const n = Number(String(input.value).replace(",", "."));
          if (input.value !== "" && Number.isFinite(n)) {
            rowTotal += n;
            rowAny = true;
            columnTotals[index] = (columnTotals[index] || 0) + n;
          }
        });
        tr.querySelector("[data-row-total]").textContent = rowAny ? String(rowTotal) : "";
        if (rowAny) { grand += rowTotal; any = true; }
      });
      table.querySelectorAll("[data-column-total]").forEach((td) => {
        const value = columnTotals[Number(td.dataset.columnTotal)];
        td.textContent = value === undefined ? "" : String(value);
      });
      const grandCell = table.querySelector("[data-grand-total]");
      if (grandCell) grandCell.textContent = any ? String(grand) : "";
    });
  }

  function renumberRows(fieldset) {
    const name = fieldset.dataset.repeat;
    fieldset.querySelectorAll(".repeat-rows > .repeat-row").forEach((row, index) => {
      row.querySelectorAll("[name]").forEach((input) => {
        input.name = input.name.replace(new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(\\d+|__index__)\\.`), `${name}.${index}.`);
      });
      row.querySelectorAll("[id]").forEach((node) => { node.id = node.id.replace("__index__", String(index)); });
      row.querySelectorAll("label[for]").forEach((label) => { label.htmlFor = label.htmlFor.replace("__index__", String(index)); });
    });
  }

  form.querySelectorAll("[data-repeat]").forEach((fieldset) => {
    const template = fieldset.querySelector("template[data-row-template]");
    const list = fieldset.querySelector(".repeat-rows");
    const add = fieldset.querySelector("button.add-row");
    if (!template || !add) return;
    add.type = "button";
    add.addEventListener("click", () => {
      list.appendChild(template.content.cloneNode(true));
      renumberRows(fieldset);
      const rows = list.querySelectorAll(".repeat-row");
      const first = rows[rows.length - 1].querySelector("input, select, textarea");
      if (first) first.focus();
      changed();
    });
    fieldset.addEventListener("click", (event) => {
      const button = event.target.closest("button.remove-row");
      if (!button) return;
      event.preventDefault();
      button.closest(".repeat-row").remove();
      renumberRows(fieldset);
      add.focus();
      changed();
    });
  });

  async function save() {
    if (saving || !dirty || form.dataset.autosave !== "on") return;
    saving = true;
    dirty = false;
    const data = new FormData(form);
    data.set("action", "save");
    try {
      const response = await fetch(form.getAttribute("action"), {
        method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrf },
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        versionInput.value = String(body.version);
        const time = new Date(body.saved_at);
        status.textContent = `Saved at ${time.toISOString().slice(11, 16)} UTC`;
        status.classList.remove("save-error");
      } else {
        dirty = true;
        status.classList.add("save-error");
        status.textContent = response.status === 409
          ? `${body.detail || "Someone else saved this questionnaire."} Your answers are still here; use "Save draft" to see both versions.`
          : response.status === 404 || response.status === 401
            ? "Your session has ended. Your answers are still on this page: open your invitation link in a new tab, then save again."
            : "Not saved yet. Your answers are still on this page; we will try again.";
      }
    } catch (error) {
      dirty = true;
      status.classList.add("save-error");
      status.textContent = "Not saved: the connection failed. Your answers are still on this page; we will try again.";
    } finally {
      saving = false;
    }
  }

  function changed() {
    dirty = true;
    status.textContent = "Unsaved changes…";
    applyRelevance();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.setInterval(save, 4000);
  window.addEventListener("beforeunload", (event) => { if (dirty) { event.preventDefault(); } });
  form.addEventListener("submit", () => { dirty = false; });
  applyRelevance();
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
}
