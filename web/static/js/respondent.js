// The respondent form, improved when JavaScript runs: live relevance and calculations from the
// same expression tree the server evaluates, matrix totals, repeat rows, and autosave with a
// visible "saved at". Without JavaScript the form still works: the server applies relevance
// when the draft is saved. Every text shown here comes translated from the page
// (#form-messages), so this file holds no interface language of its own.
import { evaluate, truthy } from "./expressions.js";

const form = document.getElementById("survey-form");
const logicNode = document.getElementById("form-logic");
const messagesNode = document.getElementById("form-messages");
if (form && logicNode) {
  const logic = JSON.parse(logicNode.textContent);
  const messages = messagesNode ? JSON.parse(messagesNode.textContent) : {};
  const say = (key, values = {}) =>
    String(messages[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
  const status = document.getElementById("save-status");
  const versionInput = form.querySelector('input[name="expected_version"]');
  const csrf = form.querySelector('input[name="csrf_token"]').value;
  let dirty = false;
  let inFlight = null;

  // A live region is read out on every change: only write when the text really changes.
  function showStatus(text, isError = false) {
    if (status.textContent !== text) status.textContent = text;
    status.classList.toggle("save-error", isError);
  }

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
    applyChoiceFilters(answers);
    updateMatrixTotals();
    form.querySelectorAll("[data-label-template]").forEach((node) => {
      node.textContent = node.dataset.labelTemplate.replace(/\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g,
        (_, name) => {
          const value = answers[name];
          return value === undefined || value === null || Array.isArray(value) ? "" : String(value);
        });
    });
  }

  // choice_filter, as the server applies it: a bare name is the choice's column, ${q} the answer.
  function applyChoiceFilters(answers) {
    form.querySelectorAll("[data-question]").forEach((node) => {
      const entry = logic[node.dataset.question];
      if (!entry || !entry.choice_filter || !entry.choices) return;
      const row = node.closest(".repeat-row");
      const scope = row ? Object.assign({}, answers, rowAnswers(row)) : answers;
      node.querySelectorAll(".choice input").forEach((input) => {
        const columns = entry.choices[input.value] || { name: input.value };
        const kept = truthy(evaluate(entry.choice_filter, scope, "", "", columns));
        input.closest(".choice").hidden = !kept;
        if (!kept && input.checked) input.checked = false;
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

  const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const ID_ATTRIBUTES = ["id", "for", "aria-describedby", "aria-labelledby"];

  // Rows are numbered by position: after an add or a remove, every name (repeat.N.child), id
  // (q-repeat-N-child) and reference to an id is rewritten, so ids stay unique and labels,
  // hints and errors stay tied to their input.
  function renumberRows(fieldset) {
    const name = fieldset.dataset.repeat;
    const namePattern = new RegExp(`^${escapeRegExp(name)}\\.(\\d+|__index__)\\.`);
    const idPrefix = `q-${name.replace(/\./g, "-")}-`;
    const idPattern = new RegExp(`${escapeRegExp(idPrefix)}(\\d+|__index__)-`, "g");
    const rows = fieldset.querySelectorAll(".repeat-rows > .repeat-row");
    rows.forEach((row, index) => {
      row.dataset.index = String(index);
      row.querySelectorAll("*").forEach((node) => {
        if (node.name && namePattern.test(node.name)) node.name = node.name.replace(namePattern, `${name}.${index}.`);
        if (node.dataset.field) node.dataset.field = node.dataset.field.replace(namePattern, `${name}.${index}.`);
        ID_ATTRIBUTES.forEach((attribute) => {
          const value = node.getAttribute(attribute);
          if (value) node.setAttribute(attribute, value.replace(idPattern, `${idPrefix}${index}-`));
        });
      });
      const title = row.querySelector(".repeat-row-title");
      if (title && title.dataset.titleTemplate) title.textContent = title.dataset.titleTemplate.replace("{n}", String(index + 1));
      const remove = row.querySelector("button.remove-row");
      if (remove && remove.dataset.labelText) remove.textContent = remove.dataset.labelText.replace("{n}", String(index + 1));
    });
    const empty = fieldset.querySelector(".repeat-empty");
    if (empty) empty.hidden = rows.length > 0;
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
      showStatus(say("row_added", { n: rows.length }));
      changed();
    });
    fieldset.addEventListener("click", (event) => {
      const button = event.target.closest("button.remove-row");
      if (!button) return;
      event.preventDefault();
      button.closest(".repeat-row").remove();
      renumberRows(fieldset);
      add.focus();
      showStatus(say("row_removed"));
      changed();
    });
  });

  function conflictText(response, body) {
    if (response.status === 409 && body.code === "stale_version") {
      const time = body.current_saved_at ? new Date(body.current_saved_at).toISOString().slice(11, 16) : "";
      return say("stale", { time });
    }
    if (response.status === 409 && body.code === "campaign_closed") return say("closed");
    if (response.status === 409) return body.detail || say("not_saved");
    if (response.status === 404 || response.status === 401) return say("session_ended");
    return say("not_saved");
  }

  async function send() {
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
        const time = new Date(body.saved_at).toISOString().slice(11, 16);
        if (!dirty) showStatus(say("saved_at", { time }));
      } else {
        dirty = true;
        showStatus(conflictText(response, body), true);
      }
    } catch (error) {
      dirty = true;
      showStatus(say("offline"), true);
    }
  }

  function save() {
    if (inFlight || !dirty || form.dataset.autosave !== "on") return inFlight;
    dirty = false;
    inFlight = send().finally(() => { inFlight = null; });
    return inFlight;
  }

  function changed() {
    dirty = true;
    if (!status.classList.contains("save-error")) showStatus(say("unsaved"));
    applyRelevance();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.setInterval(save, 4000);
  window.addEventListener("beforeunload", (event) => { if (dirty) { event.preventDefault(); } });
  // A submit (save, review, submit, a language switch) carries the version it read: if an
  // autosave is on its way, wait for it, so the form does not post an outdated version.
  form.addEventListener("submit", (event) => {
    if (inFlight) {
      event.preventDefault();
      const submitter = event.submitter;
      inFlight.then(() => form.requestSubmit(submitter));
      return;
    }
    dirty = false;
  });

  // The error summary's links move the focus to the field itself (the first choice of a group),
  // with its label in view above the sticky toolbar.
  const summary = document.getElementById("error-summary");
  if (summary) {
    summary.addEventListener("click", (event) => {
      const link = event.target.closest("a[href^='#']");
      if (!link) return;
      const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!target) return;
      event.preventDefault();
      const input = target.matches("input, textarea, select") ? target : target.querySelector("input, textarea, select");
      const label = target.closest(".question")?.querySelector("label, legend") || target;
      (input || target).focus({ preventScroll: true });
      label.scrollIntoView({ block: "start" });
      history.replaceState(null, "", link.hash);
    });
  }
  applyRelevance();
  if (summary) summary.focus();
}
