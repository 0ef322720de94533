// Search page: a facet change applies at once (the Apply button stays for keyboard and no-JS use);
// "/" jumps to the query box.
const form = document.getElementById("search-form");
for (const box of document.querySelectorAll(".facets input[type=checkbox]")) {
  box.addEventListener("change", () => form.requestSubmit());
}
document.addEventListener("keydown", (ev) => {
  if (ev.key === "/" && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || "")) {
    ev.preventDefault();
    document.getElementById("q").focus();
  }
});
