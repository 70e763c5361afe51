// A little script where real portals use it: no double submission, file size shown before upload,
// dd/mm/yyyy typed with the slashes added.
(function () {
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var b = form.querySelector("button[type=submit]");
      if (b) { setTimeout(function () { b.disabled = true; b.textContent = "Đang xử lý…"; }, 0); }
    });
  });
  document.querySelectorAll("input[type=file]").forEach(function (input) {
    input.addEventListener("change", function () {
      var f = input.files && input.files[0];
      var note = input.parentNode.querySelector(".file-note");
      if (!note) { note = document.createElement("p"); note.className = "muted small file-note"; input.after(note); }
      note.textContent = f ? f.name + " (" + Math.ceil(f.size / 1024) + " KB)" : "";
    });
  });
  document.querySelectorAll("input.date").forEach(function (input) {
    input.addEventListener("input", function () {
      var d = input.value.replace(/[^0-9]/g, "").slice(0, 8);
      if (d.length > 4) { input.value = d.slice(0, 2) + "/" + d.slice(2, 4) + "/" + d.slice(4); }
      else if (d.length > 2) { input.value = d.slice(0, 2) + "/" + d.slice(2); }
    });
  });
})();
