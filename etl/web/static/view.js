// Sortable tables: a header button sorts its column (keyboard-usable; pages work without it).
document.querySelectorAll("table[data-sortable]").forEach(function (table) {
  var heads = table.querySelectorAll("thead th");
  heads.forEach(function (th, column) {
    var button = th.querySelector("button");
    if (!button) return;
    button.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort") || a.cells[column].textContent.trim();
        var y = b.cells[column].getAttribute("data-sort") || b.cells[column].textContent.trim();
        var order = x.localeCompare(y, "en", {numeric: true});
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});

// A chart wider than its box opens on the latest years (its right-hand end); the box scrolls back.
document.querySelectorAll("[data-latest]").forEach(function (box) {
  box.scrollLeft = box.scrollWidth;
});
