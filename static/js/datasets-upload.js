// Dataset upload: drag and drop, one request with a progress bar per file, then the report page.
// Without this script the form still posts normally to /lab/datasets.
(function () {
  "use strict";

  function sizeLabel(bytes) {
    return bytes > 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " kB";
  }

  function setup(form) {
    var input = form.querySelector('input[type="file"]');
    var drop = form.querySelector(".ds-drop");
    var list = form.querySelector(".ds-progress");
    var errorBox = form.querySelector(".ds-error");
    var status = form.querySelector(".ds-status");
    var button = form.querySelector('button[type="submit"]');
    var chosen = [];

    function showFiles(files) {
      chosen = Array.prototype.slice.call(files);
      list.textContent = "";
      chosen.forEach(function (file) {
        var li = document.createElement("li");
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = file.name;
        var bar = document.createElement("progress");
        bar.max = file.size || 1;
        bar.value = 0;
        var note = document.createElement("span");
        note.className = "muted";
        note.textContent = sizeLabel(file.size);
        li.appendChild(name);
        li.appendChild(bar);
        li.appendChild(note);
        list.appendChild(li);
      });
    }

    input.addEventListener("change", function () { showFiles(input.files); });
    ["dragenter", "dragover"].forEach(function (type) {
      drop.addEventListener(type, function (event) { event.preventDefault(); drop.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      drop.addEventListener(type, function () { drop.classList.remove("dragging"); });
    });
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showFiles(input.files);
      }
    });

    form.addEventListener("submit", function (event) {
      if (!chosen.length && input.files.length) showFiles(input.files);
      if (!chosen.length) return;
      event.preventDefault();
      errorBox.hidden = true;
      button.disabled = true;
      status.textContent = "Uploading…";
      var data = new FormData(form);
      var bars = list.querySelectorAll("progress");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("data-api"));
      xhr.setRequestHeader("X-CSRF-Token", form.querySelector('input[name="csrf_token"]').value);
      xhr.setRequestHeader("Accept", "application/json");
      // Files travel in order inside one request, so each file's share of the bytes sent so far is its progress.
      xhr.upload.addEventListener("progress", function (e) {
        var offset = 0;
        chosen.forEach(function (file, i) {
          bars[i].value = Math.max(0, Math.min(file.size, e.loaded - offset));
          offset += file.size;
        });
      });
      xhr.upload.addEventListener("load", function () {
        chosen.forEach(function (file, i) { bars[i].value = bars[i].max; });
        status.textContent = "Checking faces, sharpness and angles…";
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        if (xhr.status === 201 && body.id) {
          window.location.assign("/lab/datasets/" + body.id);
          return;
        }
        var detail = body.detail;
        if (Array.isArray(detail)) detail = detail.map(function (d) { return d.msg; }).join("; ");
        errorBox.textContent = detail || "The upload failed (" + xhr.status + ").";
        errorBox.hidden = false;
        status.textContent = "";
        button.disabled = false;
      });
      xhr.addEventListener("error", function () {
        errorBox.textContent = "The upload was interrupted. Check the connection and try again.";
        errorBox.hidden = false;
        status.textContent = "";
        button.disabled = false;
      });
      xhr.send(data);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form.ds-upload"), setup);
  });
})();
