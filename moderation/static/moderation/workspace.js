// Keyboard shortcuts for the moderators' workspace. Each shortcut clicks or toggles the element
// marked data-shortcut="<key>" on the page, so the keyboard and the mouse do the same thing.
(() => {
  const typing = (el) => el.matches("input[type=text], input[type=search], input[type=number], input:not([type]), textarea");

  function moveCursor(step) {
    const rows = [...document.querySelectorAll("[data-cursor-list] tr[data-href]")];
    if (!rows.length) return false;
    const current = rows.findIndex((row) => row.classList.contains("cursor"));
    const next = Math.min(Math.max(current + step, 0), rows.length - 1);
    rows.forEach((row) => row.classList.remove("cursor"));
    rows[next].classList.add("cursor");
    rows[next].scrollIntoView({ block: "nearest" });
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const help = document.getElementById("help");
    if (event.key === "Escape") {
      help.hidden = true;
      document.activeElement?.blur();
      return;
    }
    if (event.target.matches("select[data-shortcut=e]")) {
      if (event.key === "Enter" && event.target.value) {
        event.preventDefault();
        if (window.htmx) window.htmx.process(event.target.form);
        event.target.form.querySelector("[data-escalate]").click();
      }
      return; // arrows and letters choose the queue
    }
    if (event.target.matches("select[data-shortcut=w]")) {
      // The reason is chosen: back to the keys, so that a or r decides with it.
      if (event.key === "Enter") {
        event.preventDefault();
        event.target.blur();
      }
      return;
    }
    if (event.target.matches("select")) return;
    if (event.key === "?") {
      help.hidden = !help.hidden;
      return;
    }
    if ((event.key === "j" || event.key === "k") && moveCursor(event.key === "j" ? 1 : -1)) return;
    if (event.key === "Enter") {
      const row = document.querySelector("[data-cursor-list] tr.cursor");
      if (row) window.location = row.dataset.href;
      return;
    }
    const target = document.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`);
    if (!target || target.disabled) return;
    event.preventDefault();
    // A key pressed the instant new content is swapped in can beat htmx to the new form, which
    // would then post the old-fashioned way (a whole page load): bind it first (idempotent).
    const hxForm = target.closest("form[hx-post]");
    if (hxForm && window.htmx) window.htmx.process(hxForm);
    if (target.matches("select")) target.focus();
    else if (target.matches("input[type=checkbox]")) {
      target.checked = !target.checked;
      target.dispatchEvent(new Event("change", { bubbles: true }));
    } else target.click();
  });

  // A save that fails (a 5xx, a lost connection, a stale session) leaves the item where it is
  // and says so, with a Retry that sends the same form with the same button again.
  let lastForm = null;
  let lastSubmitter = null;
  document.addEventListener("submit", (event) => {
    // A consequential button (a rollback) asks first; no inline script, so it is done here.
    const question = event.submitter?.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    lastForm = event.target;
    lastSubmitter = event.submitter;
  }, true);
  const saveError = () => document.getElementById("save-error");
  function showSaveError(message) {
    const box = saveError();
    if (!box) return;
    box.querySelector("[data-message]").textContent = message;
    box.hidden = false;
  }
  document.addEventListener("htmx:beforeRequest", () => {
    if (saveError()) saveError().hidden = true;
  });
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    showSaveError(xhr.getResponseHeader("X-Error-Message") || `Not saved (the server answered ${xhr.status}). Retry.`);
  });
  document.addEventListener("htmx:sendError", () => showSaveError("Not saved: the server could not be reached. Retry."));

  // A label box a person changes is theirs: it is saved with the decision (ticked or not), and
  // shown as chosen rather than suggested. Untouched boxes stay unknown.
  function choose(box) {
    const label = box.closest("label");
    label.classList.add("chosen");
    if (!label.querySelector("input[name=touched]")) {
      const touched = document.createElement("input");
      Object.assign(touched, { type: "hidden", name: "touched", value: box.value });
      label.append(touched);
    }
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches("input[data-label]")) choose(event.target);
  });
  // The item's SLA counts down while it is on screen, in the server's words (minutes_short).
  function minutesText(minutes) {
    const days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    return days ? `${days} d ${hours} h` : hours ? `${hours} h ${mins} min` : `${mins} min`;
  }
  setInterval(() => {
    document.querySelectorAll("[data-due]").forEach((cell) => {
      const left = Date.parse(cell.dataset.due) - Date.now();
      cell.innerHTML = "";
      if (left > 0) cell.textContent = `in ${minutesText(Math.floor(left / 60000))}`;
      else {
        const late = document.createElement("strong");
        late.className = "late-text";
        late.textContent = `${minutesText(Math.floor(-left / 60000))} over its SLA`;
        cell.append(late);
      }
    });
  }, 30000);

  // A slider shows its value beside it (no inline handlers: the CSP allows no inline script).
  document.addEventListener("input", (event) => {
    const output = event.target.dataset?.output && document.getElementById(event.target.dataset.output);
    if (output) output.value = Number(event.target.value).toFixed(2);
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-confirm-suggestions]")) {
      // Agree with the model on every label: its flags become yes, the others no.
      document.querySelectorAll("[data-labels] input[data-label]").forEach((box) => {
        if (box.closest("label").classList.contains("suggested")) box.checked = true;
        choose(box);
      });
      return;
    }
    if (event.target.closest("#save-error [data-retry]") && lastForm?.isConnected) {
      saveError().hidden = true;
      lastForm.requestSubmit(lastSubmitter?.isConnected ? lastSubmitter : null);
      return;
    }
    if (event.target.closest("#save-error [data-reload]")) window.location.reload();
    const row = event.target.closest("[data-cursor-list] tr[data-href]");
    if (row && !event.target.closest("a, button, input")) window.location = row.dataset.href;
    if (event.target.closest("[data-shortcut='?']")) {
      const help = document.getElementById("help");
      help.hidden = !help.hidden;
    }
  });
})();
